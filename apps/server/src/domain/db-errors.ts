import { UniqueConstraintViolationException } from "@tenantry/db";

/** The name of the unique constraint an insert or update ran into, if that is what failed. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  if (error instanceof UniqueConstraintViolationException || (error as { code?: string })?.code === "23505") {
    return (error as { constraint?: string }).constraint;
  }
  return undefined;
}

/** Socket failures: the database's host or port did not take or dropped the connection. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
/**
 * SQLSTATEs that say the server cannot serve this connection now: class 08
 * (connection exception), 53300 too many connections, 57P01 admin shutdown
 * (a terminated backend), 57P02 crash shutdown, 57P03 cannot connect now.
 */
const UNAVAILABLE_STATES = /^(08...|53300|57P0[123])$/;
/**
 * The driver's, the pool's and the server's own words for a connection that
 * broke or never came (a database closed to connections answers 55000, a
 * state other failures share, so its words decide). The query builder puts
 * the statement in front of the driver's words: `<sql> - Connection terminated…`.
 * A transaction whose connection broke is ended under the code running in it,
 * whose next statement then fails with "Transaction query already complete".
 */
const UNAVAILABLE_MESSAGES =
  /^(?:[\s\S]* - )?(?:Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection|Transaction query already complete|database ".*" is not currently accepting connections$)/;

/**
 * Whether a failure means the database cannot be reached (an outage, worth a
 * retry later) rather than a fault in the request or the code. The one place
 * that decides it; the error may come wrapped (ORM exceptions, `cause`,
 * several addresses tried at once).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const { code, name, message, cause, previous, errors } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    previous?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string" && (SOCKET_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  if (name === "KnexTimeoutError") return true;
  if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
  const inner = [cause, previous, ...(Array.isArray(errors) ? errors : [])];
  return inner.some((each) => isDatabaseUnavailable(each, depth + 1));
}
