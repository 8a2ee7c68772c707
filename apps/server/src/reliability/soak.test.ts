import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase } from "@tenantry/db/testing";
import { afterAll, describe, expect, it } from "vitest";
import { exitOf, spawnServer } from "../test-support/process.js";
import { PASSWORD, type Reply, RestClient, signUpRest } from "../test-support/rest.js";

/**
 * Load held: the real entry point in a child process takes a mix of reads,
 * writes and logins at a fixed rate (open loop: a request leaves on schedule
 * whether or not the earlier ones are answered). Its RSS is read from
 * /proc/<pid>/status every second; its event-loop delay is measured inside it
 * by a preloaded probe (test-support/loop-probe.mjs) that writes a file.
 * Passes when, after the warm-up, the RSS slope is flat, the request p99 and
 * the event-loop delay p99 are bounded, and nothing answered 5xx.
 *
 * `npm test` runs a short version (SOAK_SECONDS=5) that judges only that
 * nothing failed and both probes reported: on a shared machine five seconds
 * say nothing about latency or slope. `npm run soak` runs minutes and judges
 * everything (SOAK_SECONDS, SOAK_RATE).
 */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 5);
const RATE = Number(process.env.SOAK_RATE ?? 40);
const LONG = SECONDS >= 60;
/** The first part of the run (at least 20 s) is warm-up: JIT, pools and caches fill. */
const WARM_UP_S = LONG ? Math.max(20, SECONDS * 0.25) : 2;
const LIMITS = {
  /** RSS growth after warm-up (least squares over the floors of eight windows), in MiB per minute. */
  rssSlopeMiBPerMin: 3,
  requestP99Ms: 500,
  loopDelayP99Ms: 100,
  /** Requests in flight at once before the driver counts a request as dropped. */
  maxInFlight: 200,
};
const resultsDir = new URL("../../../../.test-results/", import.meta.url).pathname;
const probeScript = new URL("../test-support/loop-probe.mjs", import.meta.url).pathname;

function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const MiB = 1024 * 1024;

describe("soak: mixed traffic at a fixed rate", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(
    `holds ${RATE} requests/s for ${SECONDS} s with flat memory and bounded latency`,
    async () => {
      const testDb = await createTestDatabase();
      cleanups.push(() => testDb.drop());
      const work = mkdtempSync(join(tmpdir(), "tenantry-soak-"));
      cleanups.push(() => rmSync(work, { recursive: true, force: true }));
      const probeFile = join(work, "loop.jsonl");
      const env: Record<string, string> =
        testDb.target.kind === "postgres" ? { DATABASE_URL: testDb.target.url } : { DATA_DIR: testDb.target.dataDir };
      const server = spawnServer({ THROTTLE: "off", LOG_LEVEL: "info", LOOP_PROBE_FILE: probeFile, ...env }, [
        "--import",
        probeScript,
      ]);
      cleanups.push(() => {
        server.child.kill("SIGKILL");
      });
      const api = new RestClient(await server.url);
      api.log.length = 0;
      const pid = server.child.pid ?? 0;

      // The cast: a tenant with an admin, and a pool of members who log in now and then.
      const acme = await signUpRest(api);
      const admin = { token: acme.adminToken };
      const memberEmails: string[] = [];
      for (let n = 0; n < 5; n += 1) {
        const email = `member-${n}@soak.example.com`;
        const invited = await api.post("/api/users/invite/", { email, role: "VIEWER" }, admin);
        await api.post("/api/users/accept-invite/", { token: invited.body.token, password: PASSWORD });
        memberEmails.push(email);
      }
      const pending: { id: string; token: string }[] = [];
      let sequence = 0;

      /** One request of the mix, chosen by weight. */
      const mix: [number, () => Promise<Reply>][] = [
        [30, () => api.get("/api/users/me/", admin)],
        [15, () => api.get("/api/users/invitations/?limit=20", admin)],
        [10, () => api.get("/api/user-roles/", admin)],
        [10, () => api.get("/trpc/auth.me,tenant.list?batch=1&input=%7B%7D", admin)],
        [
          15,
          async () => {
            sequence += 1;
            const reply = await api.post("/api/users/invite/", { email: `soak-${sequence}@soak.example.com` }, admin);
            if (reply.status === 201) pending.push({ id: reply.body.id, token: reply.body.token });
            return reply;
          },
        ],
        [
          8,
          async () => {
            const invitation = pending.shift();
            if (!invitation) return api.get("/healthz");
            return sequence % 2
              ? api.delete(`/api/users/invitations/${invitation.id}/`, admin)
              : api.post("/api/users/accept-invite/", { token: invitation.token, password: PASSWORD });
          },
        ],
        [5, () => api.post("/api/auth/login/", { email: memberEmails[sequence % 5], password: PASSWORD })],
        [3, () => api.post("/api/auth/login/", { email: "nobody@soak.example.com", password: "Wrong-password-1" })],
        [4, () => api.get("/api/users/00000000-0000-4000-8000-000000000000/", admin)],
      ];
      const totalWeight = mix.reduce((sum, [weight]) => sum + weight, 0);
      const pick = (n: number) => {
        let r = (n * 7919) % totalWeight;
        for (const [weight, send] of mix) {
          if (r < weight) return send;
          r -= weight;
        }
        return mix[0]?.[1] as () => Promise<Reply>;
      };

      const latencies: { at: number; ms: number }[] = [];
      const statuses = new Map<number, number>();
      let inFlight = 0;
      let dropped = 0;
      let failed = 0;
      const rss: [number, number][] = [];
      const startedAt = performance.now();
      const sampler = setInterval(() => {
        const value = rssOf(pid);
        if (value !== undefined) rss.push([(performance.now() - startedAt) / 1000, value]);
      }, 1000);
      cleanups.push(() => clearInterval(sampler));

      const inFlightRequests = new Set<Promise<void>>();
      const total = SECONDS * RATE;
      for (let n = 0; n < total; n += 1) {
        const due = startedAt + (n * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (inFlight >= LIMITS.maxInFlight) {
          dropped += 1;
          continue;
        }
        inFlight += 1;
        const sentAt = performance.now();
        const request = pick(n)()
          .then((reply) => {
            latencies.push({ at: (sentAt - startedAt) / 1000, ms: performance.now() - sentAt });
            statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
            // Answers are not kept: the driver's own memory must not grow.
            api.log.length = 0;
          })
          .catch(() => {
            failed += 1;
          })
          .finally(() => {
            inFlight -= 1;
            inFlightRequests.delete(request);
          });
        inFlightRequests.add(request);
      }
      await Promise.all([...inFlightRequests]);
      clearInterval(sampler);
      const elapsedS = (performance.now() - startedAt) / 1000;

      server.child.kill("SIGTERM");
      expect((await exitOf(server.child)).code).toBe(0);

      // The probe's lines, with their time on the driver's scale (wall clock, shifted).
      const wallStart = Date.now() - (performance.now() - startedAt);
      const loop = readFileSync(probeFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { at: number; p50: number; p99: number; max: number; heapUsed: number })
        .map((sample) => ({ ...sample, t: (sample.at - wallStart) / 1000 }))
        .filter((sample) => sample.t >= 0 && sample.t <= elapsedS);
      const steady = <T extends { t: number }>(samples: T[]) => samples.filter((sample) => sample.t >= WARM_UP_S);
      const steadyRss = rss.filter(([t]) => t >= WARM_UP_S);
      const steadyLatencies = latencies.filter((sample) => sample.at >= WARM_UP_S).map((sample) => sample.ms);
      const steadyLoop = steady(loop);
      // RSS saws up and down with each collection: the slope is fitted to the floor of each of
      // eight windows (the lowest sample in it), which a leak raises and a collection cycle does not.
      const floors = (points: [number, number][]) =>
        Array.from({ length: 8 }, (_, w) => {
          const part = points.slice(
            Math.floor((w * points.length) / 8),
            Math.max(Math.floor(((w + 1) * points.length) / 8), 1),
          );
          return part.reduce((low, point) => (point[1] < low[1] ? point : low), part[0] ?? [0, 0]);
        });
      const rssSlope = (slope(floors(steadyRss)) * 60) / MiB;
      const heapSlope = (slope(floors(steadyLoop.map((sample) => [sample.t, sample.heapUsed]))) * 60) / MiB;
      const serverErrors = [...statuses].filter(([status]) => status >= 500).reduce((sum, [, count]) => sum + count, 0);
      const summary = {
        seconds: round(elapsedS),
        rate: RATE,
        requests: latencies.length,
        achievedRate: round(latencies.length / elapsedS),
        statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
        dropped,
        failed,
        serverErrors,
        warmUpS: WARM_UP_S,
        rssMiB: {
          first: round((steadyRss[0]?.[1] ?? 0) / MiB),
          last: round((steadyRss.at(-1)?.[1] ?? 0) / MiB),
          max: round(Math.max(0, ...steadyRss.map(([, value]) => value)) / MiB),
          samples: steadyRss.length,
        },
        rssSlopeMiBPerMin: round(rssSlope, 2),
        heapSlopeMiBPerMin: round(heapSlope, 2),
        requestMs: {
          p50: round(percentile(steadyLatencies, 50)),
          p99: round(percentile(steadyLatencies, 99)),
          max: round(Math.max(0, ...steadyLatencies)),
        },
        loopDelayMs: {
          p50: round(
            percentile(
              steadyLoop.map((sample) => sample.p50),
              50,
            ),
          ),
          p99: round(Math.max(0, ...steadyLoop.map((sample) => sample.p99))),
          max: round(Math.max(0, ...steadyLoop.map((sample) => sample.max))),
          samples: steadyLoop.length,
        },
        /** Request p50 per tenth of the run: latency that climbs with time, not with load, is a finding. */
        p50ByWindowMs: Array.from({ length: 10 }, (_, w) =>
          round(
            percentile(
              latencies
                .filter((sample) => sample.at >= (w * elapsedS) / 10 && sample.at < ((w + 1) * elapsedS) / 10)
                .map((sample) => sample.ms),
              50,
            ),
          ),
        ),
        limits: LIMITS,
        slopeJudged: LONG,
      };
      const verdicts = {
        noServerErrors: serverErrors === 0 && failed === 0,
        notDropped: !LONG || dropped === 0,
        requestP99: !LONG || summary.requestMs.p99 <= LIMITS.requestP99Ms,
        loopDelayP99: !LONG || summary.loopDelayMs.p99 <= LIMITS.loopDelayP99Ms,
        // Only growth counts: RSS that falls after the warm-up is memory handed back.
        rssFlat: !LONG || rssSlope <= LIMITS.rssSlopeMiBPerMin,
      };
      const pass = Object.values(verdicts).every(Boolean);
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(
        `${resultsDir}soak${LONG ? "" : "-short"}.json`,
        JSON.stringify({ ...summary, verdicts, pass }, null, 2),
      );
      process.stdout.write(
        `\nSoak ${pass ? "PASS" : "FAIL"}: ${summary.requests} requests in ${summary.seconds} s at ${RATE}/s; ` +
          `RSS ${summary.rssMiB.first} -> ${summary.rssMiB.last} MiB, slope ${summary.rssSlopeMiBPerMin} MiB/min` +
          `${LONG ? ` (limit ${LIMITS.rssSlopeMiBPerMin})` : " (short run: only failures judged)"}; ` +
          `request p50 ${summary.requestMs.p50} ms, p99 ${summary.requestMs.p99} ms (limit ${LIMITS.requestP99Ms}); ` +
          `event-loop delay p99 ${summary.loopDelayMs.p99} ms (limit ${LIMITS.loopDelayP99Ms}); ` +
          `5xx ${serverErrors}, failed ${failed}, dropped ${dropped}\n`,
      );
      expect(verdicts, JSON.stringify(summary)).toEqual({
        noServerErrors: true,
        notDropped: true,
        requestP99: true,
        loopDelayP99: true,
        rssFlat: true,
      });
      expect(steadyLoop.length).toBeGreaterThan(0);
      expect(steadyRss.length).toBeGreaterThan(0);
    },
    (SECONDS + 120) * 1000,
  );
});
