import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { SECURITY_HEADERS } from "./security-headers.js";

const TRPC_REQUEST = /^[A-Z]+ \/trpc[/?]/;

/**
 * What Node's HTTP parser refuses before any route sees the request (headers
 * or URL too large, a malformed request line, headers sent too slowly) is
 * answered in the API's error shapes: tRPC's envelope when the request line
 * names /trpc, else `{"detail": …}` (not fastify's own shape).
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message, code] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request header fields too large.", "BAD_REQUEST"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request timeout.", "TIMEOUT"]
        : [400, "Bad request.", "BAD_REQUEST"];
  const raw = Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined;
  const trpc = TRPC_REQUEST.test(raw?.subarray(0, 16).toString("latin1") ?? "");
  const body = JSON.stringify(
    trpc
      ? {
          error: {
            message,
            code: code === "TIMEOUT" ? -32008 : -32600,
            data: { code, httpStatus: status, fieldErrors: {} },
          },
        }
      : { detail: message },
  );
  if (socket.writable) {
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n${headers.join("")}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
