import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Where a process's CPU time went, from a V8 .cpuprofile (`node --cpu-prof`):
 * self time by package (fastify, @trpc/server, zod, MikroORM, knex, pg,
 * pino, node internals, ...), the time under each package (inclusive), the
 * product's own functions and the hottest functions.
 *
 * Also a command: `node --import tsx src/profile.ts <file.cpuprofile|dir> [requests [cpu-ms-per-request]]`.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  requests: number | undefined;
  /** The process's measured CPU per request (/proc), to turn shares into µs per request. */
  cpuMsPerReq: number | undefined;
  byPackageSelf: { name: string; ms: number; share: number }[];
  /** Self time with V8 builtins and node internals (socket writes, JSON, RegExp) charged to the package that called them. */
  byPackageCharged: { name: string; ms: number; share: number }[];
  byPackageInclusive: { name: string; ms: number; share: number }[];
  productFunctions: { name: string; ms: number; share: number }[];
  hotFunctions: { name: string; where: string; ms: number; share: number }[];
}

/** The newest .cpuprofile in a directory, or the file itself. */
export function findProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => join(path, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${path}`);
  return files[0];
}

/** The package (or area) a frame belongs to. */
export function category(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName.startsWith("(")) return frame.functionName;
    return "(V8 builtins / native)";
  }
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) {
    const path = url.slice("node:".length).replace(/^internal\//, "");
    return `node:${path.split("/")[0]}`;
  }
  const tenantry = /\/(apps|packages)\/([^/]+)\//.exec(url);
  if (tenantry) return `@tenantry/${tenantry[2]}`;
  return url;
}

function where(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, "");
  const modules = file.lastIndexOf("/node_modules/");
  const short =
    modules >= 0 ? file.slice(modules + "/node_modules/".length) : file.replace(/^.*\/(apps|packages)\//, "");
  return short ? `${short}:${frame.lineNumber + 1}` : "";
}

export function summarizeProfile(file: string, requests?: number, cpuMsPerReq?: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Each sample lasts until the next one.
  const durations = profile.samples.map((_, index) => {
    const next = profile.timeDeltas[index + 1];
    return (next ?? profile.timeDeltas[index] ?? 0) / 1000;
  });

  const selfByPackage = new Map<string, number>();
  const chargedByPackage = new Map<string, number>();
  const inclusiveByPackage = new Map<string, number>();
  const selfByFunction = new Map<string, { where: string; ms: number }>();
  const inclusiveProduct = new Map<string, number>();
  let idleMs = 0;
  let gcMs = 0;
  let totalMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = durations[index] ?? 0;
    const node = nodes.get(id);
    if (!node) return;
    totalMs += ms;
    const leaf = node.callFrame;
    if (leaf.functionName === "(idle)") {
      idleMs += ms;
      return;
    }
    if (leaf.functionName === "(garbage collector)") gcMs += ms;
    const pkg = category(leaf);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + ms);
    const fnKey = `${leaf.functionName || "(anonymous)"} [${pkg}]\u0000${leaf.url}:${leaf.lineNumber}`;
    const fn = selfByFunction.get(fnKey) ?? { where: where(leaf), ms: 0 };
    fn.ms += ms;
    selfByFunction.set(fnKey, fn);
    // Builtins and node internals are charged to the nearest package or product code that called them.
    let charged = pkg;
    if (pkg === "(V8 builtins / native)" || pkg.startsWith("node:")) {
      charged = "node (no package on the stack: http parsing, socket I/O, timers)";
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = nodes.get(at)?.callFrame;
        if (frame?.url && !frame.url.startsWith("node:")) {
          charged = category(frame);
          break;
        }
      }
    }
    chargedByPackage.set(charged, (chargedByPackage.get(charged) ?? 0) + ms);
    // Inclusive: count the sample once for every package and product function on its stack.
    const packages = new Set<string>();
    const productFns = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      const framePkg = category(frame);
      packages.add(framePkg);
      if (framePkg.startsWith("@tenantry/")) {
        productFns.add(`${frame.functionName || "(anonymous)"} (${where(frame)})`);
      }
    }
    for (const name of packages) inclusiveByPackage.set(name, (inclusiveByPackage.get(name) ?? 0) + ms);
    for (const name of productFns) inclusiveProduct.set(name, (inclusiveProduct.get(name) ?? 0) + ms);
  });
  const busyMs = totalMs - idleMs;
  const ranked = (map: Map<string, number>, limit: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, ms, share: ms / busyMs }));
  return {
    file,
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs,
    idleMs,
    gcMs,
    requests,
    cpuMsPerReq,
    byPackageSelf: ranked(selfByPackage, 25),
    byPackageCharged: ranked(chargedByPackage, 25),
    byPackageInclusive: ranked(inclusiveByPackage, 25),
    productFunctions: ranked(inclusiveProduct, 25),
    hotFunctions: [...selfByFunction]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 35)
      .map(([key, { where, ms }]) => ({ name: key.split("\u0000")[0] ?? key, where, ms, share: ms / busyMs })),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  // The sampler counts wall time while the thread is not idle, preemption included; shares are what
  // it measures well. Per request, a share is priced at the CPU the process really used (/proc).
  const cpuUsPerReq = summary.cpuMsPerReq
    ? summary.cpuMsPerReq * 1000
    : summary.requests
      ? (summary.busyMs / summary.requests) * 1000
      : undefined;
  const perRequest = (share: number) =>
    cpuUsPerReq === undefined ? "" : `${(share * cpuUsPerReq).toFixed(1).padStart(7)} µs/req`;
  const line = (name: string, ms: number, share: number, extra = "") =>
    `  ${(share * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms ${perRequest(share)}  ${name}${extra}`;
  const out: string[] = [];
  out.push(`CPU profile: ${summary.file}`);
  out.push(
    `  wall ${(summary.wallMs / 1000).toFixed(1)} s; main thread not idle ${(summary.busyMs / 1000).toFixed(1)} s ` +
      `(sampled wall time, preemption included), idle ${(summary.idleMs / 1000).toFixed(1)} s, GC ${(summary.gcMs / 1000).toFixed(2)} s` +
      (summary.requests ? `; ${summary.requests} requests` : ""),
  );
  if (cpuUsPerReq !== undefined) {
    out.push(
      `  µs/req = share × ${cpuUsPerReq.toFixed(0)} µs, the ${summary.cpuMsPerReq ? "measured (/proc) CPU" : "sampled busy time"} per request.`,
    );
  }
  out.push("", "Self time by package (share of on-CPU time):");
  for (const row of summary.byPackageSelf) out.push(line(row.name, row.ms, row.share));
  out.push("", "Self time by package, V8 builtins and node internals charged to the package calling them:");
  for (const row of summary.byPackageCharged) out.push(line(row.name, row.ms, row.share));
  out.push("", "Time under each package (inclusive: samples with the package anywhere on the stack):");
  for (const row of summary.byPackageInclusive) out.push(line(row.name, row.ms, row.share));
  out.push("", "Product functions, inclusive:");
  for (const row of summary.productFunctions) out.push(line(row.name, row.ms, row.share));
  out.push("", "Hottest functions (self time):");
  for (const row of summary.hotFunctions) out.push(line(row.name, row.ms, row.share, `  ${row.where}`));
  return out.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [target, requests, cpuMsPerReq] = process.argv.slice(2);
  if (!target) {
    process.stderr.write(
      "usage: node --import tsx src/profile.ts <file.cpuprofile|dir> [requests [cpu-ms-per-request]]\n",
    );
    process.exit(2);
  }
  process.stdout.write(
    `${formatProfile(
      summarizeProfile(
        findProfile(target),
        requests ? Number(requests) : undefined,
        cpuMsPerReq ? Number(cpuMsPerReq) : undefined,
      ),
    )}\n`,
  );
}
