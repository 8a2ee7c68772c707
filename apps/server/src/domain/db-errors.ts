import { UniqueConstraintViolationException } from "@tenantry/db";

/** The name of the unique constraint an insert or update ran into, if that is what failed. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  if (error instanceof UniqueConstraintViolationException || (error as { code?: string })?.code === "23505") {
    return (error as { constraint?: string }).constraint;
  }
  return undefined;
}
