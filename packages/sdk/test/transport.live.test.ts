import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../../../apps/server/src/test-support/server.js";
import {
  createTenantryClient,
  type TenantryClientOptions,
  TenantryError,
  type TenantryFetch,
  type TenantryFetchInit,
} from "../src/index.js";

const PASSWORD = "correct horse battery staple";

/** A fetch that counts the HTTP requests reaching the server and keeps what it answered. */
function countingFetch() {
  const seen: { url: string; init: TenantryFetchInit; response?: Response }[] = [];
  const fetch: TenantryFetch = async (url, init) => {
    const entry: (typeof seen)[number] = { url, init };
    seen.push(entry);
    entry.response = await globalThis.fetch(url, init);
    return entry.response;
  };
  return { fetch, seen };
}

/** A fetch that holds every request until `release()`, so calls stay in flight as long as a test needs. */
function gatedFetch() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const started: TenantryFetchInit[] = [];
  let onStart: (() => void) | undefined;
  const fetch: TenantryFetch = async (url, init) => {
    started.push(init);
    onStart?.();
    await gate;
    return globalThis.fetch(url, init);
  };
  const requestStarted = () =>
    new Promise<void>((resolve) => {
      if (started.length) resolve();
      else onStart = resolve;
    });
  return { fetch, started, requestStarted, release: () => open() };
}

describe("transport against a live server", () => {
  let server: TestServer;
  let token: string;
  let client: (options?: Partial<TenantryClientOptions>) => ReturnType<typeof createTenantryClient>;
  beforeAll(async () => {
    server = await startTestServer({ env: { THROTTLE: "off" } });
    const anonymous = createTenantryClient({ baseUrl: server.url });
    await anonymous.tenant.create({ name: "Acme", adminEmail: "owner@acme.test", adminPassword: PASSWORD });
    token = (await anonymous.auth.login({ email: "owner@acme.test", password: PASSWORD })).token;
    client = (options = {}) => createTenantryClient({ baseUrl: server.url, token, ...options });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("batching", () => {
    test("two concurrent queries are one HTTP request; sequential ones are two", async () => {
      const counter = countingFetch();
      const sdk = client({ fetch: counter.fetch });
      const [me, tenants] = await Promise.all([sdk.user.me(), sdk.tenant.list()]);
      expect(me.email).toBe("owner@acme.test");
      expect(tenants).toHaveLength(1);
      expect(counter.seen).toHaveLength(1);
      expect(counter.seen[0]?.url).toContain("/trpc/user.me,tenant.list?batch=1");
      await sdk.user.me();
      await sdk.tenant.list();
      expect(counter.seen).toHaveLength(3);
    });

    test("concurrent mutations share a request too, apart from the queries", async () => {
      const counter = countingFetch();
      const sdk = client({ fetch: counter.fetch });
      const [a, b, roles] = await Promise.all([
        sdk.invite.create({ email: "a@acme.test", role: "VIEWER" }),
        sdk.invite.create({ email: "b@acme.test" }),
        sdk.role.list(),
      ]);
      expect([a.email, b.email, roles.length]).toEqual(["a@acme.test", "b@acme.test", 1]);
      expect(counter.seen.map((s) => s.init.method).sort()).toEqual(["GET", "POST"]);
    });

    test("a batch with a failing call: the others still resolve", async () => {
      const sdk = client();
      const [me, missing] = await Promise.allSettled([
        sdk.user.me(),
        sdk.tenant.get({ id: "00000000-0000-4000-8000-000000000000" }),
      ]);
      expect(me.status).toBe("fulfilled");
      expect(missing.status === "rejected" && missing.reason).toMatchObject({ code: "NOT_FOUND", status: 404 });
    });

    test("many concurrent queries succeed in batches of at most 50 that the server accepts", async () => {
      const counter = countingFetch();
      const sdk = client({ fetch: counter.fetch });
      const calls = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0 ? sdk.invite.list() : i % 3 === 1 ? sdk.tenant.list() : sdk.role.list({ role: "ADMIN" }),
      );
      const results = await Promise.all(calls);
      expect(results).toHaveLength(60);
      expect(counter.seen).toHaveLength(2);
      for (const { response } of counter.seen) expect(response?.status).toBe(200);
    });
  });

  describe("abort", () => {
    test("an aborted call rejects promptly, while its request is still held", async () => {
      const gated = gatedFetch();
      const sdk = client({ fetch: gated.fetch });
      const controller = new AbortController();
      const call = sdk.user.me(undefined, { signal: controller.signal });
      await gated.requestStarted();
      controller.abort();
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TenantryError);
      expect(error).toMatchObject({ code: "ABORTED", status: 0, path: "user.me" });
      // Its only call aborted, the HTTP request was cancelled too.
      expect(gated.started[0]?.signal?.aborted).toBe(true);
      gated.release();
    });

    test("aborting one call of a batch leaves the other to finish", async () => {
      const gated = gatedFetch();
      const sdk = client({ fetch: gated.fetch });
      const controller = new AbortController();
      const aborted = sdk.tenant.list(undefined, { signal: controller.signal });
      const kept = sdk.user.me();
      await gated.requestStarted();
      expect(gated.started).toHaveLength(1);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ code: "ABORTED" });
      expect(gated.started[0]?.signal?.aborted).toBe(false);
      gated.release();
      await expect(kept).resolves.toMatchObject({ email: "owner@acme.test" });
    });

    test("a mutation can be aborted too; a signal already aborted sends nothing", async () => {
      const gated = gatedFetch();
      const sdk = client({ fetch: gated.fetch });
      const controller = new AbortController();
      const call = sdk.invite.create({ email: "c@acme.test" }, { signal: controller.signal });
      await gated.requestStarted();
      controller.abort();
      await expect(call).rejects.toMatchObject({ code: "ABORTED" });
      await expect(sdk.user.me(undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        code: "ABORTED",
      });
      expect(gated.started).toHaveLength(1);
      gated.release();
    });
  });

  describe("credentials", () => {
    test("a token function follows rotation: log in again, switch, log the old session out", async () => {
      const anonymous = createTenantryClient({ baseUrl: server.url });
      let current: string | undefined = token;
      const sdk = createTenantryClient({ baseUrl: server.url, token: async () => current });
      expect((await sdk.user.me()).email).toBe("owner@acme.test");
      const old = current;
      current = (await anonymous.auth.login({ email: "owner@acme.test", password: PASSWORD })).token;
      await createTenantryClient({ baseUrl: server.url, token: old }).auth.logout();
      expect((await sdk.user.me()).email).toBe("owner@acme.test");
      current = undefined;
      await expect(sdk.user.me()).rejects.toMatchObject({ code: "UNAUTHORIZED", authentication: "missing" });
      // The shared token of the other tests was the one logged out: use the new one from here on.
      token = (await anonymous.auth.login({ email: "owner@acme.test", password: PASSWORD })).token;
    });

    test("custom headers reach the server (it echoes x-request-id)", async () => {
      const counter = countingFetch();
      const sdk = client({ fetch: counter.fetch, headers: () => ({ "x-request-id": "sdk-test-123" }) });
      await sdk.user.me();
      expect(counter.seen[0]?.response?.headers.get("x-request-id")).toBe("sdk-test-123");
    });
  });
});
