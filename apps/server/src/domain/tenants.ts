import { hashPassword, passwordProblems } from "@tenantry/auth";
import { type EntityManager, newId, runStatement, Tenant, withParts } from "@tenantry/db";
import { auditInsertSql } from "./audit.js";
import type { TenantScope } from "./caller.js";
import type { ServiceContext } from "./context.js";
import { violatedUniqueConstraint } from "./db-errors.js";
import { FieldErrorCollector, NotFound, ValidationFailed } from "./errors.js";
import { isUuid } from "./ids.js";
import type { Page, PageRequest } from "./paging.js";
import { roleAssignmentInsertSql } from "./role-assignment-records.js";
import {
  freeSlug,
  nameAndSlugsTaken,
  selectTenants,
  tenantInsertSql,
  tenantRow,
  tenantView,
} from "./tenant-records.js";
import { newUser, userInsertSql } from "./user-records.js";
import type { TenantView } from "./views.js";

export interface CreateTenantInput {
  name: string;
  adminEmail: string;
  adminPassword: string;
  adminFirstName?: string;
  adminLastName?: string;
}

const SLUG_ATTEMPTS = 5;

/**
 * Self-service sign-up: the tenant, its first user and that user's ADMIN
 * role, with its audit event, in one statement: all or nothing.
 */
export async function createTenant(
  ctx: Pick<ServiceContext, "em" | "clock" | "audit">,
  input: CreateTenantInput,
): Promise<TenantView & { adminUserId: string }> {
  const errors = new FieldErrorCollector();
  const problems = passwordProblems(input.adminPassword, {
    email: input.adminEmail,
    firstName: input.adminFirstName,
    lastName: input.adminLastName,
  });
  errors.add("adminPassword", ...problems);
  // An acceptable password is hashed while the name is looked up (neither waits for the other); no
  // connection is held while Argon2 works. A taken name answers as soon as it is known.
  const hashing = problems.length === 0 ? hashPassword(input.adminPassword) : undefined;
  hashing?.catch(() => {});
  const base = slugify(input.name);
  let { nameTaken, slugs } = await nameAndSlugsTaken(ctx.em, input.name, base);
  if (nameTaken) errors.add("name", TENANT_NAME_TAKEN);
  errors.throwIfAny();
  const passwordHash = await (hashing as Promise<string>);
  for (let attempt = 1; ; attempt++) {
    const now = ctx.clock.now();
    const tenant = { id: newId(), name: input.name, slug: freeSlug(base, slugs), createdAt: now };
    const admin = newUser(
      {
        tenantId: tenant.id,
        email: input.adminEmail,
        passwordHash,
        firstName: input.adminFirstName,
        lastName: input.adminLastName,
      },
      now,
    );
    const event = auditInsertSql(
      ctx.audit,
      {
        action: "tenant.created",
        tenantId: tenant.id,
        target: { type: "tenant", id: tenant.id },
        details: { name: tenant.name, slug: tenant.slug, adminUserId: admin.id, adminEmail: admin.email },
        // Sign-up is anonymous; the new admin is who did it.
        actor: { type: "user", id: admin.id, email: admin.email },
      },
      now,
    );
    const assignment = {
      id: newId(),
      tenantId: tenant.id,
      userId: admin.id,
      role: "ADMIN" as const,
      grantedById: null,
    };
    try {
      const statement = withParts(
        [
          ["tenant", tenantInsertSql(tenant)],
          ["admin", userInsertSql(admin)],
          ["assignment", roleAssignmentInsertSql({ ...assignment, createdAt: now })],
        ],
        event,
      );
      await runStatement(ctx.em, statement.sql, statement.params);
      return { ...tenantView(tenantRow(tenant)), adminUserId: admin.id };
    } catch (error) {
      const constraint = violatedUniqueConstraint(error);
      if (constraint === "tenants_name_lower_key") throw ValidationFailed.field("name", TENANT_NAME_TAKEN);
      // Another sign-up took the same slug between our look and our insert: look again.
      if (constraint === "tenants_slug_key" && attempt < SLUG_ATTEMPTS) {
        ({ slugs } = await nameAndSlugsTaken(ctx.em, input.name, base));
        continue;
      }
      throw error;
    }
  }
}

const TENANT_NAME_TAKEN = "A tenant with this name already exists.";

/** `Acme Café, Inc.` → `acme-cafe-inc`. */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50)
    .replace(/-+$/, "");
  return slug || "tenant";
}

/** A tenant named by id or slug, or null. */
export async function findTenantByRef(em: EntityManager, ref: string): Promise<Tenant | null> {
  return em.findOne(Tenant, isUuid(ref) ? { id: ref.toLowerCase() } : { slug: ref.toLowerCase() });
}

export async function listTenants(
  ctx: Pick<ServiceContext, "em">,
  scope: TenantScope,
  page?: PageRequest,
): Promise<Page<TenantView>> {
  const { count, results } = await selectTenants(ctx.em, scope.tenantId, page);
  return { count, results: results.map(tenantView) };
}

/** One tenant by id or slug, if the scope covers it; otherwise "not found", never "forbidden". */
export async function getTenant(ctx: Pick<ServiceContext, "em">, scope: TenantScope, ref: string): Promise<TenantView> {
  const tenant = await findTenantByRef(ctx.em, ref);
  if (!tenant || (scope.tenantId !== null && tenant.id !== scope.tenantId)) throw new NotFound();
  return tenantView(tenantRow(tenant));
}
