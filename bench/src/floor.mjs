// The physical floor: the fastest honest node:http + pg server for the
// product's requests, so every ratio the bench prints is against the limit.
//
// Reads (`GET /api/user-roles/`, `GET /api/users/me/`): ONE prepared
// statement per request checks the session (by id; the user active), joins
// the user and returns the response body already serialized by PostgreSQL
// (byte for byte the product's JSON: the bench compares them before it
// measures), next to the stored secret hash. The process compares SHA-256 of
// the presented secret with it in constant time, applies the expiry and its
// slide exactly as the product does (@tenantry/auth session-policy), and
// writes the body to the socket as it came.
//
// Writes (`POST /api/users/invite/`, `/api/users/accept-invite/`,
// `/api/tenants/`): minimal but honest — the same Argon2id hash
// (@tenantry/auth hashPassword, the product's parameters), the same rows in
// one transaction each (the audit event included, which fires the same
// triggers), the same token hashing and the same concurrency guards (tenant
// lock on invite, conditional claim on accept). Input validation beyond what
// the bench sends is left out.
//
// Plain JavaScript, run by node itself. Env: PORT, DATABASE_URL, POOL_SIZE, SECRET_KEY (the product's).
import { createCipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { hashPassword } from "@tenantry/auth";
import pg from "pg";

const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
// `<id>.<secret>`, each 24 characters of the product's alphabet (@tenantry/auth tokens.ts).
const BEARER = /^(?:Bearer|Token)\s+([a-km-np-z2-9]{24})\.([a-km-np-z2-9]{24})\s*$/i;

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
});

const iso = (column) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** A JSON string escaped by PostgreSQL (the same escapes as JSON.stringify), or null. */
const json = (expression) => `coalesce(to_json(${expression})::text, 'null')`;
/** A value whose text needs no escaping (a uuid, a role: the schema allows nothing else), quoted, or null. */
const plain = (expression) => `coalesce('"' || ${expression} || '"', 'null')`;
const SESSION = `
    from sessions s join users u on u.id = s.user_id
   where s.id = $1 and u.is_active`;
const SESSION_COLUMNS = `s.secret_hash, (extract(epoch from s.expires_at) * 1000)::float8 as expires_ms, u.tenant_id`;

// The caller's tenant's assignments as the DRF JSON array, oldest first.
const LIST = `
  select ${SESSION_COLUMNS},
         coalesce((select '[' || string_agg(
             '{"id":"' || ra.id || '","user":"' || ra.user_id || '","role":"' || ra.role ||
             '","tenant":"' || ra.tenant_id || '","granted_by":' || ${plain("ra.granted_by_id")} ||
             ',"created_at":"' || ${iso("ra.created_at")} || '"}', ',' order by ra.created_at, ra.id) || ']'
           from role_assignments ra where ra.tenant_id = u.tenant_id), '[]') as body
  ${SESSION}`;

const ME = `
  select ${SESSION_COLUMNS},
         '{"id":"' || u.id || '","email":' || ${json("u.email")} ||
         ',"first_name":' || ${json("u.first_name")} || ',"last_name":' || ${json("u.last_name")} ||
         ',"tenant":' || ${plain("u.tenant_id")} ||
         ',"roles":[' || coalesce((select string_agg('"' || ra.role || '"', ',' order by ra.role)
                                     from role_assignments ra where ra.user_id = u.id), '') ||
         '],"is_superuser":' || u.is_superuser || ',"is_active":' || u.is_active ||
         ',"date_joined":"' || ${iso("u.date_joined")} || '"}' as body
  ${SESSION}`;

// Reads come back in PostgreSQL's binary format, unparsed: the body as its UTF-8
// bytes, written to the socket as they are; the hash as its hex bytes; the expiry a float8.
const RAW = { getTypeParser: () => (value) => value };
const read = (name, text) => (id) => ({ name, text, values: [id], binary: true, types: RAW });
const LIST_STATEMENT = read("floor-list", LIST);
const ME_STATEMENT = read("floor-me", ME);
/** The session row with its expiry as a number (binary float8 from reads, a number from text-format statements). */
function readSession(row) {
  if (!row || typeof row.expires_ms === "number") return row;
  row.expires_ms = row.expires_ms.readDoubleBE(0);
  return row;
}

// The inviter: a session whose user is an ADMIN of its tenant.
const INVITER = (id) => ({
  name: "floor-inviter",
  text: `
  select s.secret_hash, (extract(epoch from s.expires_at) * 1000)::float8 as expires_ms,
         u.id as user_id, u.tenant_id, u.email,
         exists (select 1 from role_assignments ra where ra.user_id = u.id and ra.role = 'ADMIN') as admin
  ${SESSION}`,
  values: [id],
});

const NO_CREDENTIALS = JSON.stringify({ detail: "Authentication credentials were not provided." });
const INVALID_TOKEN = JSON.stringify({ detail: "Invalid token." });
const NOT_FOUND = JSON.stringify({ detail: "Not found." });
const FORBIDDEN = JSON.stringify({ detail: "You do not have permission to perform this action." });
// The product's sealer (mail/sealer.ts): its worker delivers the floor's invitations too.
const SEAL_KEY = createHash("sha256")
  .update(process.env.SECRET_KEY ?? "")
  .digest();

function send(response, status, body, extra) {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  response.end(body);
}

function unauthorized(response, body) {
  send(response, 401, body, { "www-authenticate": "Bearer" });
}

function sha256Hex(text) {
  return createHash("sha256").update(text).digest("hex");
}

/** The session's row (from `statement(id)`) if the token's secret matches and it has not expired; else null (and 401 sent). */
async function authenticate(request, response, statement) {
  const header = request.headers.authorization;
  if (!header) {
    unauthorized(response, NO_CREDENTIALS);
    return null;
  }
  const token = BEARER.exec(header);
  if (!token) {
    unauthorized(response, INVALID_TOKEN);
    return null;
  }
  const [, id, secret] = token;
  const { rows } = await pool.query(statement(id));
  const row = readSession(rows[0]);
  const presented = Buffer.from(sha256Hex(secret));
  const stored = Buffer.from(row ? row.secret_hash : "");
  // A superuser (no tenant) is outside the floor's scope.
  if (!row || presented.length !== stored.length || !timingSafeEqual(presented, stored) || row.tenant_id === null) {
    unauthorized(response, INVALID_TOKEN);
    return null;
  }
  const now = Date.now();
  if (now >= row.expires_ms) {
    await pool.query("delete from sessions where id = $1", [id]);
    unauthorized(response, INVALID_TOKEN);
    return null;
  }
  if (row.expires_ms - now <= SESSION_LIFETIME_MS / 2) {
    await pool.query("update sessions set expires_at = $2 where id = $1", [id, new Date(now + SESSION_LIFETIME_MS)]);
  }
  return row;
}

async function serve(request, response, statement) {
  const row = await authenticate(request, response, statement);
  if (row) send(response, 200, row.body);
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(error);
      }
    });
    request.on("error", reject);
  });
}

/** A UUID version 7, as the product's ids (time-ordered). */
function newId(now = Date.now()) {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function seal(plain) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", SEAL_KEY, iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}

async function transaction(work) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

const AUDIT = `insert into audit_events (id, occurred_at, actor_type, actor_id, actor_email, tenant_id, action,
  target_type, target_id, details, ip, user_agent) values ($1, $2, 'user', $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)`;

function audit(client, request, now, actor, tenantId, action, target, details) {
  return client.query(AUDIT, [
    newId(now.getTime()),
    now,
    actor.id,
    actor.email,
    tenantId,
    action,
    target.type,
    target.id,
    JSON.stringify(details),
    request.socket.remoteAddress ?? null,
    request.headers["user-agent"] ?? null,
  ]);
}

async function invite(request, response) {
  const caller = await authenticate(request, response, INVITER);
  if (!caller) return;
  if (!caller.admin) return send(response, 403, FORBIDDEN);
  const input = await readBody(request);
  const tenantId = caller.tenant_id;
  const member = await pool.query("select 1 from users where tenant_id = $1 and lower(email) = lower($2) limit 1", [
    tenantId,
    input.email,
  ]);
  if (member.rows.length) return send(response, 400, JSON.stringify({ email: ["Already a member."] }));
  const token = randomBytes(32).toString("base64url");
  const sealed = seal(token);
  const now = new Date();
  const id = newId(now.getTime());
  await transaction(async (client) => {
    await client.query("select id from tenants where id = $1 for no key update", [tenantId]);
    const replaced = await client.query(
      `update invitations set state = 'revoked', revoked_at = $1, delivery_token_ciphertext = null,
         delivery_next_attempt_at = null,
         delivery_last_error = case when email_delivery = 'pending'
           then 'Cancelled: the invitation was revoked before delivery.' else delivery_last_error end,
         email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end
       where state = 'pending' and tenant_id = $2 and lower(email) = lower($3) returning id`,
      [now, tenantId, input.email],
    );
    await client.query(
      `insert into invitations (id, tenant_id, email, role, token_hash, state, invited_by_id, created_at, expires_at,
         accepted_at, email_delivery, delivery_attempts, delivery_next_attempt_at, delivery_token_ciphertext)
       values ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, null, 'pending', 0, $7, $9)`,
      [
        id,
        tenantId,
        input.email,
        input.role,
        sha256Hex(token),
        caller.user_id,
        now,
        new Date(now.getTime() + INVITATION_LIFETIME_MS),
        sealed,
      ],
    );
    await audit(
      client,
      request,
      now,
      { id: caller.user_id, email: caller.email },
      tenantId,
      "invitation.created",
      { type: "invitation", id },
      { email: input.email, role: input.role, replaced: replaced.rows.map((row) => row.id) },
    );
  });
  send(response, 201, JSON.stringify({ id, email: input.email, role: input.role, status: "pending", token }));
}

async function accept(request, response) {
  const input = await readBody(request);
  const tokenHash = sha256Hex(String(input.token));
  const found = await pool.query(
    "select id, tenant_id, email, role, invited_by_id from invitations where token_hash = $1 and state = 'pending' and expires_at > now()",
    [tokenHash],
  );
  const invitation = found.rows[0];
  if (!invitation) return send(response, 400, JSON.stringify({ token: ["Invalid invitation token."] }));
  const passwordHash = await hashPassword(input.password);
  const now = new Date();
  const userId = newId(now.getTime());
  const claimed = await transaction(async (client) => {
    const won = await client.query(
      `update invitations set state = 'accepted', accepted_at = $1, delivery_token_ciphertext = null,
         delivery_next_attempt_at = null,
         delivery_last_error = case when email_delivery = 'pending'
           then 'Cancelled: the invitation was accepted before delivery.' else delivery_last_error end,
         email_delivery = case when email_delivery = 'pending' then 'failed' else email_delivery end
       where id = $2 and token_hash = $3 and state = 'pending' and expires_at > $1`,
      [now, invitation.id, tokenHash],
    );
    if (won.rowCount !== 1) return false;
    await client.query(
      `insert into users (id, tenant_id, email, password_hash, first_name, last_name, is_superuser, date_joined)
       values ($1, $2, $3, $4, $5, $6, false, $7)`,
      [
        userId,
        invitation.tenant_id,
        invitation.email,
        passwordHash,
        input.first_name ?? "",
        input.last_name ?? "",
        now,
      ],
    );
    await audit(
      client,
      request,
      now,
      { id: userId, email: invitation.email },
      invitation.tenant_id,
      "invitation.accepted",
      { type: "invitation", id: invitation.id },
      { userId, email: invitation.email, role: invitation.role },
    );
    if (invitation.role) {
      await client.query(
        "insert into role_assignments (id, tenant_id, user_id, role, granted_by_id, created_at) values ($1, $2, $3, $4, $5, $6)",
        [newId(now.getTime()), invitation.tenant_id, userId, invitation.role, invitation.invited_by_id, now],
      );
    }
    return true;
  });
  if (!claimed) return send(response, 400, JSON.stringify({ token: ["This invitation has already been accepted."] }));
  send(
    response,
    201,
    JSON.stringify({
      id: userId,
      email: invitation.email,
      tenant: invitation.tenant_id,
      roles: invitation.role ? [invitation.role] : [],
      is_superuser: false,
      is_active: true,
      date_joined: now.toISOString(),
    }),
  );
}

function slugify(name) {
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

async function createTenant(request, response) {
  const input = await readBody(request);
  const taken = await pool.query("select 1 from tenants where lower(name) = lower($1) limit 1", [input.name]);
  if (taken.rows.length)
    return send(response, 400, JSON.stringify({ name: ["A tenant with this name already exists."] }));
  const passwordHash = await hashPassword(input.admin_password);
  const base = slugify(input.name);
  const slugs = await pool.query("select slug from tenants where slug = $1 or slug like $2", [base, `${base}-%`]);
  const used = new Set(slugs.rows.map((row) => row.slug));
  let slug = base;
  for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
  const now = new Date();
  const tenantId = newId(now.getTime());
  const adminId = newId(now.getTime());
  await transaction(async (client) => {
    await client.query("insert into tenants (id, name, slug, created_at) values ($1, $2, $3, $4)", [
      tenantId,
      input.name,
      slug,
      now,
    ]);
    await client.query(
      `insert into users (id, tenant_id, email, password_hash, first_name, last_name, is_superuser, date_joined)
       values ($1, $2, $3, $4, $5, $6, false, $7)`,
      [
        adminId,
        tenantId,
        input.admin_email,
        passwordHash,
        input.admin_first_name ?? "",
        input.admin_last_name ?? "",
        now,
      ],
    );
    await client.query(
      "insert into role_assignments (id, tenant_id, user_id, role, granted_by_id, created_at) values ($1, $2, $3, 'ADMIN', null, $4)",
      [newId(now.getTime()), tenantId, adminId, now],
    );
    await audit(
      client,
      request,
      now,
      { id: adminId, email: input.admin_email },
      tenantId,
      "tenant.created",
      { type: "tenant", id: tenantId },
      { name: input.name, slug, adminUserId: adminId, adminEmail: input.admin_email },
    );
  });
  send(
    response,
    201,
    JSON.stringify({ id: tenantId, name: input.name, slug, created_at: now.toISOString(), admin_user_id: adminId }),
  );
}

const server = createServer((request, response) => {
  const path = request.url.split("?", 1)[0];
  let work;
  if (request.method === "GET" && path === "/api/user-roles/") work = serve(request, response, LIST_STATEMENT);
  else if (request.method === "GET" && path === "/api/users/me/") work = serve(request, response, ME_STATEMENT);
  else if (request.method === "POST" && path === "/api/users/invite/") work = invite(request, response);
  else if (request.method === "POST" && path === "/api/users/accept-invite/") work = accept(request, response);
  else if (request.method === "POST" && path === "/api/tenants/") work = createTenant(request, response);
  else if (path === "/healthz") return send(response, 200, '{"status":"ok"}');
  else return send(response, 404, NOT_FOUND);
  work.catch((error) => {
    process.stderr.write(`floor: ${error.stack ?? error}\n`);
    if (!response.headersSent) send(response, 500, JSON.stringify({ detail: "A server error occurred." }));
  });
});
server.keepAliveTimeout = 72_000;

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ level: 30, msg: "floor listening", port: server.address().port })}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
}
process.on("SIGTERM", stop).on("SIGINT", stop);
