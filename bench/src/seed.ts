import { randomBytes } from "node:crypto";
import type { Api, Assignment, InvitationCreated, LoginAnswer, TenantCreated, UserAnswer } from "./api.js";

export const PASSWORD = `bench-${randomBytes(6).toString("hex")}-Passphrase`;

export interface SeededTenant {
  id: string;
  slug: string;
  adminEmail: string;
  adminUserId: string;
  /** The admin's session token (a bearer token). */
  token: string;
  users: number;
  assignments: number;
}

let unique = 0;
/** A name no earlier run of this process used. */
export function uniqueLabel(prefix: string): string {
  unique += 1;
  return `${prefix}-${Date.now().toString(36)}-${unique}-${randomBytes(2).toString("hex")}`;
}

/** Creates a tenant through the API and logs its admin in. */
export async function createTenantWithAdmin(api: Api, label: string): Promise<SeededTenant> {
  const name = uniqueLabel(label);
  const adminEmail = `admin@${name}.bench.test`;
  const tenant = await api.expect<TenantCreated>("POST", "/api/tenants/", 201, {
    body: {
      name,
      admin_email: adminEmail,
      admin_password: PASSWORD,
      admin_first_name: "Bench",
      admin_last_name: "Admin",
    },
  });
  const login = await api.expect<LoginAnswer>("POST", "/api/auth/login/", 200, {
    body: { email: adminEmail, password: PASSWORD, tenant: tenant.slug },
  });
  return {
    id: tenant.id,
    slug: tenant.slug,
    adminEmail,
    adminUserId: tenant.admin_user_id,
    token: login.token,
    users: 1,
    assignments: 1,
  };
}

/** Invites `email` (with `role`, or none) as the admin and accepts the invitation. */
export async function inviteAndAccept(
  api: Api,
  adminToken: string,
  email: string,
  role: string | null,
): Promise<UserAnswer> {
  const invitation = await api.expect<InvitationCreated>("POST", "/api/users/invite/", 201, {
    token: adminToken,
    body: { email, role },
  });
  return api.expect<UserAnswer>("POST", "/api/users/accept-invite/", 201, {
    body: { token: invitation.token, password: PASSWORD, first_name: "Bench", last_name: "User" },
  });
}

/**
 * A tenant with `users` users and `assignments` role assignments, made only
 * through the REST API: the tenant and its ADMIN, then invitations (each with
 * one role) accepted one by one, then grants of a second role until the count
 * is reached.
 */
export async function seedTenant(
  api: Api,
  label: string,
  target: { users: number; assignments: number },
): Promise<SeededTenant> {
  if (target.assignments < target.users || target.assignments > target.users * 2 - 1) {
    throw new Error(`cannot seed ${target.assignments} assignments over ${target.users} users`);
  }
  const tenant = await createTenantWithAdmin(api, label);
  const members: { id: string; role: "ANALYST" | "VIEWER" }[] = [];
  for (let i = 1; i < target.users; i++) {
    const role = i % 2 === 0 ? "VIEWER" : "ANALYST";
    const user = await inviteAndAccept(api, tenant.token, `user${i}@${tenant.slug}.bench.test`, role);
    members.push({ id: user.id, role });
  }
  let assignments = target.users;
  for (const member of members) {
    if (assignments >= target.assignments) break;
    await api.expect("POST", "/api/user-roles/", 201, {
      token: tenant.token,
      body: { user: member.id, role: member.role === "VIEWER" ? "ANALYST" : "VIEWER" },
    });
    assignments += 1;
  }
  const listed = await api.expect<Assignment[]>("GET", "/api/user-roles/", 200, { token: tenant.token });
  const users = await api.expect<unknown[]>("GET", "/api/users/", 200, { token: tenant.token });
  if (listed.length !== target.assignments || users.length !== target.users) {
    throw new Error(
      `seeded ${users.length} users and ${listed.length} assignments, not ${target.users} and ${target.assignments}`,
    );
  }
  return { ...tenant, users: users.length, assignments: listed.length };
}
