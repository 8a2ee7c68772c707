import { describe, expect, test } from "vitest";
import { procedureKinds } from "../src/generated/api.js";
import { createTenantryClient } from "../src/index.js";
import { batchReply, fakeFetch, ok } from "./support/fake-fetch.js";

/** Every procedure issue #5 names, plus those the routers have since. */
const NAMED_IN_ISSUE = [
  "auth.login",
  "auth.logout",
  "auth.me",
  "tenant.create",
  "tenant.list",
  "tenant.page",
  "tenant.get",
  "user.me",
  "user.list",
  "user.page",
  "invite.create",
  "invite.list",
  "invite.page",
  "invite.revoke",
  "invite.extend",
  "invite.accept",
  "role.list",
  "role.page",
  "role.grant",
  "role.revoke",
];

const answerAll = () => fakeFetch((request) => batchReply(...request.paths.map(() => ok(null))));

/** The dotted paths of a tree's leaves (functions of the client, kinds of the table). */
function leaves(value: unknown, prefix = ""): string[] {
  return Object.entries(value as Record<string, unknown>).flatMap(([name, node]) =>
    typeof node === "object" && node !== null ? leaves(node, `${prefix}${name}.`) : [`${prefix}${name}`],
  );
}

describe("the client has every procedure", () => {
  test("one function per procedure of the generated table, including every one the issue names", () => {
    const client = createTenantryClient({ baseUrl: "http://x.test" });
    const paths = leaves(client);
    expect(paths).toEqual(leaves(procedureKinds));
    for (const path of paths) {
      const [ns, name] = path.split(".") as [string, string];
      expect(typeof (client as unknown as Record<string, Record<string, unknown>>)[ns]?.[name]).toBe("function");
    }
    expect(paths).toEqual(expect.arrayContaining(NAMED_IN_ISSUE));
    expect(Object.isFrozen(client.invite)).toBe(true);
  });

  test("queries are GETs and mutations POSTs to <baseUrl>/trpc/<path>", async () => {
    const fake = answerAll();
    const client = createTenantryClient({ baseUrl: "https://tenantry.example.com/", fetch: fake.fetch });
    await client.tenant.get({ id: "t1" });
    await client.role.grant({ userId: "u1", role: "VIEWER" });
    expect(fake.requests.map((r) => [r.method, r.url.split("?")[0], r.inputs])).toEqual([
      ["GET", "https://tenantry.example.com/trpc/tenant.get", [{ id: "t1" }]],
      ["POST", "https://tenantry.example.com/trpc/role.grant", [{ userId: "u1", role: "VIEWER" }]],
    ]);
  });

  test.each([
    ["https://h.test", "https://h.test/trpc/user.me"],
    ["https://h.test/", "https://h.test/trpc/user.me"],
    ["https://h.test/tenantry", "https://h.test/tenantry/trpc/user.me"],
    ["https://h.test/trpc", "https://h.test/trpc/user.me"],
    [new URL("https://h.test/api/"), "https://h.test/api/trpc/user.me"],
  ])("baseUrl %s calls %s", async (baseUrl, expected) => {
    const fake = answerAll();
    await createTenantryClient({ baseUrl, fetch: fake.fetch }).user.me();
    expect(fake.requests[0]?.url.split("?")[0]).toBe(expected);
  });
});

describe("credentials and headers", () => {
  test("token sets Authorization: Bearer; without one no Authorization is sent", async () => {
    const fake = answerAll();
    await createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, token: "t0k3n" }).user.me();
    await createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch }).user.me();
    await createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, token: null }).user.me();
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(["Bearer t0k3n", undefined, undefined]);
  });

  test("a token function (sync or async) is asked before every request, so tokens can rotate", async () => {
    const fake = answerAll();
    const tokens = ["first", "second"];
    let asked = 0;
    const client = createTenantryClient({
      baseUrl: "http://x.test",
      fetch: fake.fetch,
      token: async () => tokens[asked++],
    });
    await client.user.me();
    await client.role.grant({ userId: "u1", role: "ADMIN" });
    const sync = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, token: () => "sync" });
    await sync.user.me();
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(["Bearer first", "Bearer second", "Bearer sync"]);
  });

  test("custom headers (object or async function) are sent; the token replaces their Authorization", async () => {
    const fake = answerAll();
    await createTenantryClient({
      baseUrl: "http://x.test",
      fetch: fake.fetch,
      headers: { "x-request-id": "req-1", Authorization: "Token old", "x-skip": undefined },
      token: "new",
    }).user.me();
    await createTenantryClient({
      baseUrl: "http://x.test",
      fetch: fake.fetch,
      headers: async () => ({ "x-request-id": "req-2", authorization: "Token kept" }),
    }).user.me();
    const [first, second] = fake.requests.map((r) => r.headers);
    expect(first).toMatchObject({ "x-request-id": "req-1", authorization: "Bearer new" });
    expect(first).not.toHaveProperty("Authorization");
    expect(first).not.toHaveProperty("x-skip");
    expect(second).toMatchObject({ "x-request-id": "req-2", authorization: "Token kept" });
  });
});

describe("batching", () => {
  test("calls made together share one request; queries and mutations are batched apart", async () => {
    const fake = answerAll();
    const client = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch });
    await Promise.all([
      client.user.me(),
      client.tenant.list(),
      client.invite.create({ email: "a@b.test" }),
      client.role.grant({ userId: "u", role: "VIEWER" }),
    ]);
    expect(fake.requests.map((r) => `${r.method} ${r.paths.join(",")}`).sort()).toEqual([
      "GET user.me,tenant.list",
      "POST invite.create,role.grant",
    ]);
  });

  test("a batch holds at most 50 calls and its path stays within the server's 2048-character limit", async () => {
    const fake = answerAll();
    const client = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch });
    // 120 calls of the longest procedure names there are.
    const longest = leaves(client)
      .sort((a, b) => b.length - a.length)
      .slice(0, 3);
    const calls = Array.from({ length: 120 }, (_, i) => longest[i % longest.length] ?? "user.me");
    await Promise.all(
      calls.map((path) => {
        const [ns, name] = path.split(".") as [string, string];
        const fn = (client as unknown as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>)[ns]?.[
          name
        ];
        return fn?.({ id: "00000000-0000-0000-0000-000000000000", userId: "u", role: "VIEWER" });
      }),
    );
    expect(fake.requests.flatMap((r) => r.paths)).toHaveLength(120);
    expect(fake.requests.length).toBeGreaterThanOrEqual(3);
    for (const request of fake.requests) {
      expect(request.paths.length).toBeLessThanOrEqual(50);
      expect(request.paths.join(",").length).toBeLessThanOrEqual(2048);
    }
  });

  test("batch: { maxItems } and batch: false", async () => {
    const fake = answerAll();
    const wide = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, batch: { maxItems: 20 } });
    await Promise.all(Array.from({ length: 12 }, () => wide.user.me()));
    expect(fake.requests).toHaveLength(1);
    const single = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, batch: false });
    await Promise.all([single.user.me(), single.tenant.list()]);
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[1]?.url).not.toContain("batch=1");
  });

  test("a no-input procedure is called without an input; optional inputs may be left out", async () => {
    const fake = answerAll();
    const client = createTenantryClient({ baseUrl: "http://x.test", fetch: fake.fetch, batch: false });
    await client.auth.logout();
    await client.invite.list();
    await client.invite.list({ status: "pending" });
    expect(fake.requests.map((r) => r.inputs[0])).toEqual([undefined, undefined, { status: "pending" }]);
  });
});
