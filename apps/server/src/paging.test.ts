import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, signUp } from "./test-support/harness.js";

describe("paged lists", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ throttle: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("covers the whole list exactly once, in order, with the total on every page", async () => {
    const { admin } = await signUp(h);
    for (let i = 0; i < 23; i++) await admin.invite.create({ email: `p${i}@example.com`, role: null });
    const all = await admin.invite.list();
    expect(all).toHaveLength(23);

    const seen: string[] = [];
    for (let offset = 0; offset < 30; offset += 5) {
      const page = await admin.invite.page({ limit: 5, offset });
      expect(page.count).toBe(23);
      seen.push(...page.results.map((invitation) => invitation.id));
    }
    expect(seen).toEqual(all.map((invitation) => invitation.id));
  });

  it("answers the total past the end, caps the limit at 1000 and rejects nonsense", async () => {
    const { admin } = await signUp(h);
    const past = await admin.role.page({ limit: 10, offset: 50 });
    expect(past).toEqual({ count: 1, results: [] });
    expect((await admin.role.page({ limit: 5000 })).results).toHaveLength(1);
    await expect(admin.role.page({ limit: 0 })).rejects.toThrow("greater than or equal to 1");
    await expect(admin.role.page({ limit: 5, offset: -1 })).rejects.toThrow("greater than or equal to 0");
  });

  it("pages users and tenants, and filters before paging", async () => {
    const { admin, tenant } = await signUp(h);
    expect(await admin.user.page({ limit: 1 })).toMatchObject({ count: 1 });
    expect(await admin.tenant.page({ limit: 10 })).toEqual({
      count: 1,
      results: [tenant].map(({ adminUserId: _, ...t }) => t),
    });
    expect(await admin.role.page({ limit: 10, role: "VIEWER" })).toEqual({ count: 0, results: [] });
    expect(await admin.invite.page({ limit: 10, status: "pending" })).toEqual({ count: 0, results: [] });
  });
});
