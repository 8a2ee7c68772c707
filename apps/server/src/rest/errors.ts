import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { FastifyReply } from "fastify";
import { InvalidRequest, NotFound } from "../domain/errors.js";
import { errorDetails } from "../trpc/errors.js";
import { DRF } from "../wording.js";
import { wireName } from "./names.js";

/**
 * A procedure's failure as the old backend answered it: field errors as
 * `{"field": [...]}` (`non_field_errors` for the whole request), everything
 * else as `{"detail": "..."}`, with the status DRF used.
 */
export function sendProcedureError(reply: FastifyReply, error: unknown, renameField = wireName): FastifyReply {
  if (!(error instanceof TRPCError) || error.code === "INTERNAL_SERVER_ERROR") {
    reply.log.error({ err: error instanceof TRPCError ? (error.cause ?? error) : error }, "procedure failed");
    return reply.code(500).send({ detail: DRF.serverError });
  }
  const status = getHTTPStatusCodeFromError(error);
  const details = errorDetails(error);
  switch (error.code) {
    case "BAD_REQUEST": {
      if (error.cause instanceof InvalidRequest || Object.keys(details.fieldErrors).length === 0) {
        return reply.code(400).send({ detail: error.message });
      }
      const body = Object.fromEntries(
        Object.entries(details.fieldErrors).map(([field, messages]) => [renameField(field), messages]),
      );
      return reply.code(400).send(body);
    }
    case "UNAUTHORIZED":
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="api"')
        .send({ detail: details.authentication === "invalid" ? DRF.invalidToken : DRF.notAuthenticated });
    case "FORBIDDEN":
      return reply.code(403).send({ detail: error.message || DRF.forbidden });
    case "NOT_FOUND":
      // The domain's own words (DRF's "Invalid cursor"), else DRF's "Not found."
      return reply.code(404).send({ detail: error.cause instanceof NotFound ? error.message : DRF.notFound });
    case "TOO_MANY_REQUESTS":
      return reply
        .code(429)
        .header("retry-after", String(details.retryAfter ?? 1))
        .send({ detail: error.message });
    case "SERVICE_UNAVAILABLE":
      return reply
        .code(503)
        .header("retry-after", String(details.retryAfter ?? 1))
        .send({ detail: DRF.serviceUnavailable });
    default:
      return reply.code(status).send({ detail: error.message });
  }
}
