import type { TenantScope } from "./caller.js";
import { ValidationFailed } from "./errors.js";

/** The scope's one tenant; a superuser who named none is told to name one. */
export function requireTenant(scope: TenantScope): string {
  if (scope.tenantId === null) throw ValidationFailed.field("tenant", "This field is required.");
  return scope.tenantId;
}
