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
  /** Null for a server that does not log in (the floor). */
  login: Operation | null;
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

/** A server the sequential paths are measured on, with a tenant whose admin token it accepts. */
export interface SequentialSide {
  api: Api;
  serverPid: number;
  tenant: SeededTenant;
  login: boolean;
}

interface SideSamples {
  login: Sample[];
  invite: Sample[];
  accept: Sample[];
  both: Sample[];
  create: Sample[];
}

async function iterate(side: SequentialSide, into: SideSamples | null): Promise<void> {
  const { api, serverPid, tenant } = side;
  if (side.login) {
    const loginSample = await timed(serverPid, () =>
      api.expect<LoginAnswer>("POST", "/api/auth/login/", 200, {
        body: { email: tenant.adminEmail, password: PASSWORD, tenant: tenant.slug },
      }),
    );
    into?.login.push(loginSample);
  }
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
  if (!into) return;
  into.invite.push(inviteSample);
  into.accept.push(acceptSample);
  into.both.push({ ms: inviteSample.ms + acceptSample.ms, cpuMs: inviteSample.cpuMs + acceptSample.cpuMs });
  into.create.push(createSample);
}

/**
 * Login, invite, accept and tenant creation, each `iterations` times after
 * two warm-up calls, on every side in turn (interleaved, so drift touches all
 * alike). Each side runs in a tenant of its own so the measured tenant's
 * lists keep their size. The server's CPU per call comes from /proc (10 ms
 * ticks, so only its mean over many calls means anything).
 */
export async function measureSequential(sides: SequentialSide[], iterations: number): Promise<SequentialResults[]> {
  const samples = sides.map((): SideSamples => ({ login: [], invite: [], accept: [], both: [], create: [] }));
  for (let i = 0; i < iterations + WARMUP_ITERATIONS; i++) {
    for (const [index, side] of sides.entries()) {
      await iterate(side, i >= WARMUP_ITERATIONS ? (samples[index] ?? null) : null);
    }
  }
  return samples.map((side, index) => ({
    login: sides[index]?.login ? operation(side.login) : null,
    invite: operation(side.invite),
    accept: operation(side.accept),
    inviteAndAccept: operation(side.both),
    tenantCreate: operation(side.create),
  }));
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
