/**
 * The REST API speaks the old backend's snake_case names; tRPC speaks
 * camelCase. Foreign keys are named by what they point at on the wire
 * (`user`, `tenant`) and with an `Id` suffix in tRPC (`userId`, `tenantId`).
 */
const TO_WIRE: Record<string, string> = {
  tenantId: "tenant",
  userId: "user",
  invitedById: "invited_by",
  grantedById: "granted_by",
  nonFieldErrors: "non_field_errors",
};
/** Input names that are not plain snake_case of the field: `user` is `userId`; `tenant` names a tenant as itself. */
const FROM_WIRE: Record<string, string> = { user: "userId", non_field_errors: "nonFieldErrors" };

const wireNames = new Map<string, string>(Object.entries(TO_WIRE));

/** `adminEmail` → `admin_email`, `userId` → `user`. (Remembered: there are few names and many rows.) */
export function wireName(name: string): string {
  let wire = wireNames.get(name);
  if (wire === undefined) {
    wire = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    wireNames.set(name, wire);
  }
  return wire;
}

/** `admin_email` → `adminEmail`, `user` → `userId`. */
export function fieldName(wire: string): string {
  return FROM_WIRE[wire] ?? wire.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Renames every key of a procedure's output, all the way down. */
export function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    const wire: Record<string, unknown> = {};
    for (const key in value) wire[wireName(key)] = toWire((value as Record<string, unknown>)[key]);
    return wire;
  }
  return value;
}
