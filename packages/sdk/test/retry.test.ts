import { describe, expect, test } from "vitest";
import { createTenantryClient, defaultRetryDelay, type RetryOptions, type TenantryError } from "../src/index.js";
import { sleep } from "../src/transport.js";
import { batchReply, connectionRefused, fakeFetch, ok, type Reply, trpcError } from "./support/fake-fetch.js";

const baseUrl = "http://tenantry.test";

/** Records the waits instead of waiting. */
function recordingSleep() {
  const waits: number[] = [];
  const sleep: NonNullable<RetryOptions["sleep"]> = async (ms) => {
    waits.push(ms);
  };
  return { waits, sleep };
}

function setup(replies: (index: number) => Reply, retry?: Omit<RetryOptions, "sleep"> | false) {
  const fake = fakeFetch((_request, index) => replies(index));
  const { waits, sleep } = recordingSleep();
  const client = createTenantryClient({
    baseUrl,
    fetch: fake.fetch,
    retry: retry === false ? false : { ...retry, sleep },
  });
  return { client, requests: fake.requests, waits };
}

const failing = (): Reply => ({ networkError: connectionRefused() });
const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (e: TenantryError) => e.code,
  );

describe("queries are retried on network failures, with exponential backoff", () => {
  test("two failures, then the answer: three requests, waits of 250 and 500 ms", async () => {
    const { client, requests, waits } = setup((i) => (i < 2 ? failing() : batchReply(ok({ id: "u1" }))));
    await expect(client.user.me()).resolves.toEqual({ id: "u1" });
    expect(requests).toHaveLength(3);
    expect(waits).toEqual([250, 500]);
  });

  test("gives up after 3 retries (4 requests) with NETWORK_ERROR", async () => {
    const { client, requests, waits } = setup(failing);
    await expect(errorCode(client.tenant.list())).resolves.toBe("NETWORK_ERROR");
    expect(requests).toHaveLength(4);
    expect(waits).toEqual([250, 500, 1000]);
  });

  test("retries and delay are configurable", async () => {
    const { client, requests, waits } = setup(failing, { retries: 5, delay: (attempt) => attempt * 10 });
    await expect(errorCode(client.role.list({ role: "ADMIN" }))).resolves.toBe("NETWORK_ERROR");
    expect(requests).toHaveLength(6);
    expect(waits).toEqual([10, 20, 30, 40, 50]);
    // The same input is sent every time.
    expect(new Set(requests.map((r) => JSON.stringify(r.inputs)))).toEqual(new Set(['[{"role":"ADMIN"}]']));
  });

  test("the default backoff doubles from 250 ms and stops growing at 8 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(defaultRetryDelay)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  test("retry: false and retries: 0 send once", async () => {
    const off = setup(failing, false);
    await expect(errorCode(off.client.user.me())).resolves.toBe("NETWORK_ERROR");
    expect(off.requests).toHaveLength(1);
    const zero = setup(failing, { retries: 0 });
    await expect(errorCode(zero.client.user.me())).resolves.toBe("NETWORK_ERROR");
    expect(zero.requests).toHaveLength(1);
    expect(zero.waits).toEqual([]);
  });
});

describe("nothing else is retried", () => {
  test("a mutation that fails on the network is sent once", async () => {
    const { client, requests, waits } = setup(failing);
    const login = client.auth.login({ email: "a@b.test", password: "whatever1" });
    await expect(errorCode(login)).resolves.toBe("NETWORK_ERROR");
    const invite = client.invite.create({ email: "x@b.test", role: "VIEWER" });
    await expect(errorCode(invite)).resolves.toBe("NETWORK_ERROR");
    expect(requests.map((r) => r.method)).toEqual(["POST", "POST"]);
    expect(waits).toEqual([]);
  });

  test.each([
    [
      "a tRPC 500",
      batchReply(trpcError("INTERNAL_SERVER_ERROR", 500, "A server error occurred.")),
      "INTERNAL_SERVER_ERROR",
    ],
    ["a tRPC 400", batchReply(trpcError("BAD_REQUEST", 400, "Invalid input.")), "BAD_REQUEST"],
    [
      "a tRPC 429",
      batchReply(trpcError("TOO_MANY_REQUESTS", 429, "Slow down.", { retryAfter: 5 })),
      "TOO_MANY_REQUESTS",
    ],
    [
      "a proxy's 503 page",
      { status: 503, body: "Service Unavailable", contentType: "text/plain" },
      "SERVICE_UNAVAILABLE",
    ],
    [
      "a proxy's 504 page",
      { status: 504, body: "<h1>Gateway Timeout</h1>", contentType: "text/html" },
      "GATEWAY_TIMEOUT",
    ],
  ] satisfies [string, Reply, string][])("a query answered with %s is not retried", async (_what, reply, code) => {
    const { client, requests, waits } = setup(() => reply);
    await expect(errorCode(client.user.list())).resolves.toBe(code);
    expect(requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});

describe("aborting", () => {
  test("during the backoff rejects at once with ABORTED and stops retrying", async () => {
    const fake = fakeFetch(failing);
    const controller = new AbortController();
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => {
      sleeping = resolve;
    });
    const client = createTenantryClient({
      baseUrl,
      fetch: fake.fetch,
      // The real, abortable timer, with a delay no test could sit through.
      retry: {
        delay: () => 3_600_000,
        sleep: (ms, signal) => {
          sleeping();
          return sleep(ms, signal);
        },
      },
    });
    const outcome = errorCode(client.user.me(undefined, { signal: controller.signal }));
    await asleep;
    controller.abort();
    await expect(outcome).resolves.toBe("ABORTED");
    expect(fake.requests).toHaveLength(1);
  });
});
