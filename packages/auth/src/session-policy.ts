export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export function sessionExpiry(now: Date): Date {
  return new Date(now.getTime() + SESSION_LIFETIME_MS);
}

/**
 * Sliding expiry: extend only once half the lifetime has been used up, so an active session
 * is written at most about once per half-lifetime instead of on every request.
 */
export function shouldRenew(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() - now.getTime() <= SESSION_LIFETIME_MS / 2;
}

export function isExpired(expiresAt: Date, now: Date): boolean {
  return now.getTime() >= expiresAt.getTime();
}
