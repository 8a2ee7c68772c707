// The floor: what the authenticated list costs with nothing but node:http and
// `pg`. It answers the product's `GET /api/user-roles/` (and `/api/users/me/`)
// with the same JSON, after the same token check — the session row by id, the
// SHA-256 of the secret compared in constant time with the stored hash, the
// expiry (and its slide) — in one SQL statement per request.
//
// Plain JavaScript, run by node itself: the measured process loads nothing
// but node:http, node:crypto and pg. Env: PORT, DATABASE_URL, POOL_SIZE.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import pg from "pg";

const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
// `<id>.<secret>`, each 24 characters of the product's alphabet (@tenantry/auth tokens.ts).
const BEARER = /^(?:Bearer|Token)\s+([a-km-np-z2-9]{24})\.([a-km-np-z2-9]{24})\s*$/i;

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
});

// Session, user and the tenant's assignments in one statement. The list is read
// before the secret is checked but leaves the process only after it matched.
const LIST = `
  select s.secret_hash, s.expires_at, u.tenant_id as caller_tenant,
         ra.id, ra.user_id, ra.role, ra.tenant_id, ra.granted_by_id, ra.created_at
    from sessions s
    join users u on u.id = s.user_id
    left join role_assignments ra on ra.tenant_id = u.tenant_id
   where s.id = $1
   order by ra.created_at, ra.id`;

const ME = `
  select s.secret_hash, s.expires_at, u.id, u.email, u.first_name, u.last_name, u.tenant_id, u.is_superuser,
         u.date_joined,
         coalesce((select array_agg(ra.role order by ra.role) from role_assignments ra where ra.user_id = u.id), '{}')
           as roles
    from sessions s join users u on u.id = s.user_id
   where s.id = $1`;

const NO_CREDENTIALS = JSON.stringify({ detail: "Authentication credentials were not provided." });
const INVALID_TOKEN = JSON.stringify({ detail: "Invalid token." });
const NOT_FOUND = JSON.stringify({ detail: "Not found." });

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

/** The session's rows if the token's secret matches and it has not expired; else null (and 401 sent). */
async function authenticate(request, response, sql) {
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
  const { rows } = await pool.query(sql, [id]);
  const first = rows[0];
  const presented = Buffer.from(createHash("sha256").update(secret).digest("hex"));
  const stored = Buffer.from(first ? first.secret_hash : "");
  if (!first || presented.length !== stored.length || !timingSafeEqual(presented, stored)) {
    unauthorized(response, INVALID_TOKEN);
    return null;
  }
  const now = Date.now();
  const expiresAt = first.expires_at.getTime();
  if (now >= expiresAt) {
    await pool.query("delete from sessions where id = $1", [id]);
    unauthorized(response, INVALID_TOKEN);
    return null;
  }
  if (expiresAt - now <= SESSION_LIFETIME_MS / 2) {
    await pool.query("update sessions set expires_at = $2 where id = $1", [id, new Date(now + SESSION_LIFETIME_MS)]);
  }
  return rows;
}

async function listAssignments(request, response) {
  const rows = await authenticate(request, response, LIST);
  if (!rows) return;
  // A superuser (no tenant) is outside the floor's scope.
  if (rows[0].caller_tenant === null) return unauthorized(response, INVALID_TOKEN);
  const assignments = [];
  for (const row of rows) {
    if (row.id === null) continue;
    assignments.push({
      id: row.id,
      user: row.user_id,
      role: row.role,
      tenant: row.tenant_id,
      granted_by: row.granted_by_id,
      created_at: row.created_at.toISOString(),
    });
  }
  send(response, 200, JSON.stringify(assignments));
}

async function me(request, response) {
  const rows = await authenticate(request, response, ME);
  if (!rows) return;
  const user = rows[0];
  send(
    response,
    200,
    JSON.stringify({
      id: user.id,
      email: user.email,
      first_name: user.first_name,
      last_name: user.last_name,
      tenant: user.tenant_id,
      roles: user.roles,
      is_superuser: user.is_superuser,
      date_joined: user.date_joined.toISOString(),
    }),
  );
}

const server = createServer((request, response) => {
  const path = request.url.split("?", 1)[0];
  let work;
  if (request.method === "GET" && path === "/api/user-roles/") work = listAssignments(request, response);
  else if (request.method === "GET" && path === "/api/users/me/") work = me(request, response);
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
