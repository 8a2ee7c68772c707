import { describe, expect, test } from "vitest";
import { createTenantryClient, TenantryError } from "../src/index.js";
import { batchReply, connectionRefused, fakeFetch, ok, type Reply, trpcError } from "./support/fake-fetch.js";

const baseUrl = "http://tenantry.test";
const TENANT_INPUT = { name: "Acme", adminEmail: "owner@acme.test", adminPassword: "correct horse battery" };

/** A client whose every request gets `reply`, with retries off so each call is one request. */
function clientAnswering(reply: Reply | ((index: number) => Reply)) {
  const fake = fakeFetch((_request, index) => (typeof reply === "function" ? reply(index) : reply));
  const client = createTenantryClient({ baseUrl, fetch: fake.fetch, retry: false });
  return { client, requests: fake.requests };
}

async function rejection(promise: Promise<unknown>): Promise<TenantryError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TenantryError);
  expect(error).toBeInstanceOf(Error);
  return error as TenantryError;
}

describe("server errors become TenantryError", () => {
  test("validation: code, status, message and camelCase fieldErrors", async () => {
    const fieldErrors = { adminEmail: ["Enter a valid email address."], name: ["This field may not be blank."] };
    const { client } = clientAnswering(
      batchReply(trpcError("BAD_REQUEST", 400, "adminEmail: Enter a valid email address.", { fieldErrors })),
    );
    const error = await rejection(client.tenant.create(TENANT_INPUT));
    expect(error).toMatchObject({
      name: "TenantryError",
      code: "BAD_REQUEST",
      status: 400,
      message: "adminEmail: Enter a valid email address.",
      path: "tenant.create",
    });
    expect(error.fieldErrors).toEqual(fieldErrors);
    expect(error.retryAfter).toBeUndefined();
    expect("retryAfter" in error).toBe(false);
  });

  test("nonFieldErrors stay under their own key", async () => {
    const fieldErrors = { nonFieldErrors: ["Unable to log in with provided credentials."] };
    const { client } = clientAnswering(
      batchReply(trpcError("BAD_REQUEST", 400, "Unable to log in with provided credentials.", { fieldErrors })),
    );
    const error = await rejection(client.auth.login({ email: "a@b.test", password: "nope nope" }));
    expect(error.fieldErrors).toEqual(fieldErrors);
  });

  test("throttled: TOO_MANY_REQUESTS with retryAfter in seconds", async () => {
    const { client } = clientAnswering(
      batchReply(
        trpcError("TOO_MANY_REQUESTS", 429, "Request was throttled. Expected available in 42 seconds.", {
          retryAfter: 42,
        }),
      ),
    );
    const error = await rejection(client.auth.login({ email: "a@b.test", password: "whatever1" }));
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", status: 429, retryAfter: 42, fieldErrors: {} });
  });

  test("unauthenticated: UNAUTHORIZED, and why", async () => {
    const { client } = clientAnswering(
      batchReply(trpcError("UNAUTHORIZED", 401, "Invalid token.", { authentication: "invalid" })),
    );
    const error = await rejection(client.user.me());
    expect(error).toMatchObject({ code: "UNAUTHORIZED", status: 401, message: "Invalid token.", fieldErrors: {} });
    expect(error.authentication).toBe("invalid");
  });

  test.each([
    ["FORBIDDEN", 403, "You do not have permission to perform this action."],
    ["NOT_FOUND", 404, "Not found."],
    ["INTERNAL_SERVER_ERROR", 500, "A server error occurred."],
  ])("%s keeps its code, status %i and message", async (code, status, message) => {
    const { client } = clientAnswering(batchReply(trpcError(code, status, message)));
    const error = await rejection(client.role.revoke({ id: "00000000-0000-0000-0000-000000000000" }));
    expect(error).toMatchObject({ code, status, message, fieldErrors: {} });
  });

  test("an error without fieldErrors has an empty record; malformed entries are dropped", async () => {
    const bare = { error: { message: "Nope.", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } } };
    const { client } = clientAnswering({ status: 400, body: [bare] });
    expect((await rejection(client.user.me())).fieldErrors).toEqual({});

    const odd = trpcError("BAD_REQUEST", 400, "x", { fieldErrors: { email: "just a string", role: [1, "bad"] } });
    const other = clientAnswering(batchReply(odd));
    expect((await rejection(other.client.user.me())).fieldErrors).toEqual({ email: ["just a string"], role: ["bad"] });
  });

  test("each call of a batch gets its own result or error", async () => {
    const { client, requests } = clientAnswering(
      batchReply(ok({ id: "u1" }), trpcError("FORBIDDEN", 403, "You do not have permission to perform this action.")),
    );
    const [me, invitations] = await Promise.allSettled([client.user.me(), client.invite.list()]);
    expect(requests).toHaveLength(1);
    expect(me).toEqual({ status: "fulfilled", value: { id: "u1" } });
    expect(invitations.status).toBe("rejected");
    expect((invitations as PromiseRejectedResult).reason).toMatchObject({
      code: "FORBIDDEN",
      status: 403,
      path: "invite.list",
    });
  });
});

describe("transport failures become TenantryError", () => {
  test("a network failure is NETWORK_ERROR with status 0 and the original cause", async () => {
    const refused = connectionRefused();
    const { client } = clientAnswering({ networkError: refused });
    const error = await rejection(client.tenant.create(TENANT_INPUT));
    expect(error).toMatchObject({ code: "NETWORK_ERROR", status: 0, fieldErrors: {}, path: "tenant.create" });
    expect(error.message).toContain("fetch failed");
    expect(error.cause).toBe(refused);
  });

  test("an HTML error page from a proxy is coded by its status", async () => {
    const { client } = clientAnswering({ status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" });
    const error = await rejection(client.user.me());
    expect(error).toMatchObject({ code: "BAD_GATEWAY", status: 502, fieldErrors: {} });
  });

  test("JSON that is not a tRPC response is INVALID_RESPONSE on a 2xx", async () => {
    const { client } = clientAnswering({ status: 200, body: { hello: "world" } });
    const error = await rejection(client.user.me());
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", status: 200 });
  });

  test("a non-tRPC 404 (a wrong baseUrl) is NOT_FOUND with status 404", async () => {
    const { client } = clientAnswering({ status: 404, body: { message: "Route GET:/x not found" } });
    const error = await rejection(client.user.me());
    expect(error).toMatchObject({ code: "NOT_FOUND", status: 404 });
  });

  test("a token function that throws fails the call with CLIENT_ERROR, before any request", async () => {
    const fake = fakeFetch(() => batchReply(ok(null)));
    const client = createTenantryClient({
      baseUrl,
      fetch: fake.fetch,
      token: () => {
        throw new Error("vault unavailable");
      },
    });
    const error = await rejection(client.user.me());
    expect(error).toMatchObject({ code: "CLIENT_ERROR", status: 0 });
    expect(error.message).toContain("vault unavailable");
    expect(fake.requests).toHaveLength(0);
  });

  test("an aborted signal rejects with ABORTED; a timed-out one with TIMEOUT", async () => {
    const { client, requests } = clientAnswering(batchReply(ok(null)));
    const reason = new DOMException("stop", "AbortError");
    const aborted = await rejection(client.user.me(undefined, { signal: AbortSignal.abort(reason) }));
    expect(aborted).toMatchObject({ code: "ABORTED", status: 0, path: "user.me" });
    expect(aborted.cause).toBe(reason);
    const timeout = new DOMException("The operation timed out.", "TimeoutError");
    const timedOut = await rejection(client.user.me(undefined, { signal: AbortSignal.abort(timeout) }));
    expect(timedOut).toMatchObject({ code: "TIMEOUT", status: 0 });
    expect(requests).toHaveLength(0);
  });
});

describe("TenantryError", () => {
  test("is an Error with a stack, and instanceof rejects look-alikes", () => {
    const error = new TenantryError({ code: "NOT_FOUND", status: 404, message: "Not found." });
    expect(error).toBeInstanceOf(Error);
    expect(error.stack).toContain("TenantryError");
    expect(error.fieldErrors).toEqual({});
    expect({ code: "NOT_FOUND", status: 404 }).not.toBeInstanceOf(TenantryError);
    expect(new Error("x")).not.toBeInstanceOf(TenantryError);
    expect(null).not.toBeInstanceOf(TenantryError);
  });

  test("subclasses keep the ordinary instanceof", () => {
    class AppError extends TenantryError {}
    const plain = new TenantryError({ code: "NOT_FOUND", status: 404, message: "x" });
    const own = new AppError({ code: "NOT_FOUND", status: 404, message: "x" });
    expect(own).toBeInstanceOf(TenantryError);
    expect(own).toBeInstanceOf(AppError);
    expect(plain).not.toBeInstanceOf(AppError);
  });
});
