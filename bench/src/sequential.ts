import { hashPassword, verifyPassword } from "@tenantry/auth";
import type { Api, InvitationCreated, LoginAnswer } from "./api.js";
import { processCpuMs } from "./processes.js";
import { PASSWORD, type SeededTenant, uniqueLabel } from "./seed.js";
import { round, type Spread, spread, sum } from "./stats.js";

/** One request at a time, as a person signing up or logging in meets them. */
export interface Operation extends Spread {
  /** The server process's CPU (all threads, Argon2 included) per call: the mean (/proc counts 10 ms ticks). */
  serverCpuMs: number;
}

export interface SequentialResults {
  login: Operation;
  invite: Operation;
  accept: Operation;
  inviteAndAccept: Operation;
  tenantCreate: Operation;
}

const WARMUP_ITERATIONS = 2;

interface Sample {
  ms: number;
  cpuMs: number;
}

async function timed(serverPid: number, work: () => Promise<unknown>): Promise<Sample> {
  const cpuBefore = processCpuMs(serverPid);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  return { ms, cpuMs: processCpuMs(serverPid) - cpuBefore };
}

function operation(samples: Sample[]): Operation {
  const { p50, p90, samples: n } = spread(samples.map((sample) => sample.ms));
  return {
    p50: round(p50),
    p90: round(p90),
    samples: n,
    serverCpuMs: round(sum(samples.map((s) => s.cpuMs)) / Math.max(1, n)),
  };
}

/**
 * Login, invite, accept and tenant creation, each `iterations` times after
 * two warm-up calls. Runs in a tenant of its own so the measured tenant's
 * lists keep their size. The server's CPU per call comes from /proc (10 ms
 * ticks, so only its mean over many calls means anything).
 */
export async function measureSequential(
  api: Api,
  serverPid: number,
  tenant: SeededTenant,
  iterations: number,
): Promise<SequentialResults> {
  const login: Sample[] = [];
  const invite: Sample[] = [];
  const accept: Sample[] = [];
  const both: Sample[] = [];
  const create: Sample[] = [];
  for (let i = 0; i < iterations + WARMUP_ITERATIONS; i++) {
    const keep = i >= WARMUP_ITERATIONS;
    const loginSample = await timed(serverPid, () =>
      api.expect<LoginAnswer>("POST", "/api/auth/login/", 200, {
        body: { email: tenant.adminEmail, password: PASSWORD, tenant: tenant.slug },
      }),
    );
    let invitation: InvitationCreated | undefined;
    const inviteSample = await timed(serverPid, async () => {
      invitation = await api.expect<InvitationCreated>("POST", "/api/users/invite/", 201, {
        token: tenant.token,
        body: { email: `${uniqueLabel("seq")}@${tenant.slug}.bench.test`, role: "VIEWER" },
      });
    });
    const acceptSample = await timed(serverPid, () =>
      api.expect("POST", "/api/users/accept-invite/", 201, {
        body: { token: invitation?.token, password: PASSWORD, first_name: "Seq", last_name: "User" },
      }),
    );
    const name = uniqueLabel("bench-created");
    const createSample = await timed(serverPid, () =>
      api.expect("POST", "/api/tenants/", 201, {
        body: { name, admin_email: `admin@${name}.bench.test`, admin_password: PASSWORD },
      }),
    );
    if (!keep) continue;
    login.push(loginSample);
    invite.push(inviteSample);
    accept.push(acceptSample);
    both.push({ ms: inviteSample.ms + acceptSample.ms, cpuMs: inviteSample.cpuMs + acceptSample.cpuMs });
    create.push(createSample);
  }
  return {
    login: operation(login),
    invite: operation(invite),
    accept: operation(accept),
    inviteAndAccept: operation(both),
    tenantCreate: operation(create),
  };
}

export interface HashCost {
  /** One `hashPassword` (Argon2id, the product's parameters), median ms. */
  hashMs: number;
  hashP90Ms: number;
  /** One `verifyPassword`, median ms. */
  verifyMs: number;
  samples: number;
}

/** The cost of one Argon2id hash and one verification, with @tenantry/auth itself, in this process. */
export async function measureHashCost(samples: number): Promise<HashCost> {
  const hashes: number[] = [];
  const verifies: number[] = [];
  const stored = await hashPassword(PASSWORD);
  for (let i = 0; i < samples + 1; i++) {
    let started = performance.now();
    await hashPassword(`${PASSWORD}-${i}`);
    const hashMs = performance.now() - started;
    started = performance.now();
    await verifyPassword(stored, PASSWORD);
    const verifyMs = performance.now() - started;
    if (i === 0) continue;
    hashes.push(hashMs);
    verifies.push(verifyMs);
  }
  const hash = spread(hashes);
  return {
    hashMs: round(hash.p50),
    hashP90Ms: round(hash.p90),
    verifyMs: round(spread(verifies).p50),
    samples,
  };
}
