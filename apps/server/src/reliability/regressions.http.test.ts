import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../domain/db-errors.js";
import { RestClient, type RestTenant, signUpRest, statusOf } from "../test-support/rest.js";
import { startTestServer, type TestServer } from "../test-support/server.js";

/** Defects the reliability suites found, one regression test each. */
describe("defects found by fuzzing", () => {
  let server: TestServer;
  let api: RestClient;
  let acme: RestTenant;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    api = new RestClient(server.url);
    acme = await signUpRest(api);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers a request line or headers past Node's limit in the API's shape (REST: detail; tRPC: its envelope)", async () => {
    const rest = await api.get(`/api/users/?tenant=${"a".repeat(20_000)}`, { token: acme.adminToken });
    expect(rest.status, statusOf(rest)).toBe(431);
    expect(rest.body).toEqual({ detail: "Request header fields too large." });
    const trpc = await fetch(`${server.url}/trpc/user.me?input=${"%5B".repeat(8_000)}`);
    expect(trpc.status).toBe(431);
    expect(await trpc.json()).toEqual({
      error: {
        message: "Request header fields too large.",
        code: -32600,
        data: { code: "BAD_REQUEST", httpStatus: 431, fieldErrors: {} },
      },
    });
  });

  it("answers a tRPC call whose body is not JSON, or too large, in tRPC's error shape", async () => {
    const form = await fetch(`${server.url}/trpc/invite.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.adminToken}`, "content-type": "application/x-www-form-urlencoded" },
      body: "email=a@b.co",
    });
    expect(form.status).toBe(415);
    const formBody = (await form.json()) as { error: Record<string, unknown> };
    expect(formBody.error).toMatchObject({
      code: -32015,
      data: { code: "UNSUPPORTED_MEDIA_TYPE", httpStatus: 415, path: "invite.create", fieldErrors: {} },
    });
    const large = await fetch(`${server.url}/trpc/invite.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "x".repeat(70_000) }),
    });
    expect(large.status).toBe(413);
    const largeBody = (await large.json()) as { error: Record<string, unknown> };
    expect(largeBody.error).toMatchObject({
      code: -32013,
      data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413, path: "invite.create", fieldErrors: {} },
    });
  });

  it("answers a tRPC path past the router's parameter limit with tRPC's NOT_FOUND, not fastify's shape", async () => {
    const response = await fetch(`${server.url}/trpc/${"user.me,".repeat(400)}user.me`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ message: "Not found.", data: { code: "NOT_FOUND", httpStatus: 404 } });
  });
});

describe("defects found by faults under load", () => {
  it("takes a driver's words behind the statement the query builder prefixes as an unreachable database (503, not 500)", () => {
    for (const message of [
      "select id from tenants where id = '1' for no key update - Connection terminated unexpectedly",
      "COMMIT; - Connection terminated unexpectedly",
      "select 1 from users - Client has encountered a connection error and is not queryable",
      "Transaction query already complete, run with DEBUG=knex:tx for more info",
    ]) {
      expect(isDatabaseUnavailable(new Error(message)), message).toBe(true);
    }
    expect(isDatabaseUnavailable(new Error('select 1 - syntax error at or near "x"'))).toBe(false);
  });
});
