export {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type PasswordContext,
  passwordProblems,
  passwordVerificationCount,
  verifyPassword,
  verifyPasswordOrDummy,
  verifyPasswordPadded,
} from "./password.js";
export { isExpired, SESSION_LIFETIME_MS, sessionExpiry, shouldRenew } from "./session-policy.js";
export {
  type CreatedSessionToken,
  constantTimeEqualHex,
  createInvitationToken,
  createSessionToken,
  generateSecureRandomString,
  hashInvitationToken,
  hashSecret,
  type InvitationToken,
  type ParsedSessionToken,
  parseSessionToken,
} from "./tokens.js";
