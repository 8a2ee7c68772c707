import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** `performance.timeOrigin + performance.now()` when the whole body had arrived. */
  at: number;
  /** The status answered (or null: the request was left hanging). */
  status: number | null;
}

/** What to answer the n-th request (0-based): a status, or `hang` to never answer. */
export type Respond = (request: Received, index: number) => number | "hang";

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `count` requests satisfy `where` (default: any), or rejects after `timeoutMs`. */
  waitFor(count: number, where?: (request: Received) => boolean, timeoutMs?: number): Promise<Received[]>;
  respond: Respond;
  close(): Promise<void>;
}

export const now = () => performance.timeOrigin + performance.now();

/** A real HTTP server on 127.0.0.1 that records every webhook POST it gets. */
export async function startReceiver(respond: Respond = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const receiver = { respond } as Receiver;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry: Received = {
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([key, value]) => [
            key,
            Array.isArray(value) ? value.join(",") : (value ?? ""),
          ]),
        ),
        body: Buffer.concat(chunks).toString("utf8"),
        at: now(),
        status: null,
      };
      const answer = receiver.respond(entry, received.length);
      received.push(entry);
      if (answer === "hang") hanging.add(response);
      else {
        entry.status = answer;
        response.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
      }
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks/tenantry`,
    received,
    waitFor(count: number, where: (request: Received) => boolean = () => true, timeoutMs = 20_000) {
      return new Promise<Received[]>((resolve, reject) => {
        const check = () => {
          const matching = received.filter(where);
          if (matching.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} webhook requests, got ${received.filter(where).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
