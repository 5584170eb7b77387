import {
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { runSync } from "./system";

/**
 * Every lab writes a record under /run/lg-netlab before it creates anything, naming its
 * prefix and owning pid. A record whose pid is gone belongs to a crashed run: the next
 * build (or `lg lab status`/`down`) removes what it lists. /run is a tmpfs, so a reboot
 * clears the records together with the namespaces they describe.
 */
export const REGISTRY_DIR = "/run/lg-netlab";

export interface LabRecord {
  prefix: string;
  pid: number;
  createdAt: string;
  namespaces: string[];
  /** Root-namespace end of the host link. */
  hostInterface?: string;
  /** Policy-routing rule preferences added in the root namespace. */
  hostRules?: { family: 4 | 6; pref: number }[];
  /** Host-link slot (address block and routing table) held by this lab. */
  slot?: number;
  /** Processes outside the lab's namespaces that must die with it (e.g. delay wires). */
  pids?: number[];
  /** Left up on purpose after its owner exited (`lg lab up`): not a leftover. */
  persistent?: boolean;
}

const PREFIX = /^[a-z][a-z0-9]{1,7}$/;

export function isValidPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

function recordPath(prefix: string): string {
  return join(REGISTRY_DIR, `${prefix}.json`);
}

export function writeRecord(record: LabRecord): void {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  const tmp = `${recordPath(record.prefix)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, recordPath(record.prefix));
}

export function readRecord(prefix: string): LabRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(prefix), "utf8")) as LabRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(): LabRecord[] {
  let files: string[];
  try {
    files = readdirSync(REGISTRY_DIR);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      const r = readRecord(f.slice(0, -".json".length));
      return r ? [r] : [];
    });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lowest free host-link slot for `prefix` (an exclusive lock file per slot). */
export function claimSlot(prefix: string, max: number): number {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  for (let slot = 0; slot < max; slot++) {
    const path = join(REGISTRY_DIR, `slot-${slot}`);
    try {
      writeFileSync(path, prefix, { flag: "wx" });
      return slot;
    } catch {
      let owner = "";
      try {
        owner = readFileSync(path, "utf8").trim();
      } catch {}
      const rec = owner ? readRecord(owner) : undefined;
      // A fresh slot file without a record is a lab between claiming and registering.
      const fresh = Date.now() - mtimeMs(path) < 60_000;
      if (rec ? !rec.persistent && !isAlive(rec.pid) : !fresh) {
        // A slot held by a dead or unregistered lab is free again.
        rmSync(path, { force: true });
        slot--;
      }
    }
  }
  throw new Error(`all ${max} host-link slots are in use`);
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export function releaseSlot(prefix: string, slot: number): void {
  const path = join(REGISTRY_DIR, `slot-${slot}`);
  try {
    if (readFileSync(path, "utf8").trim() === prefix) rmSync(path, { force: true });
  } catch {}
}

/**
 * Processes whose network namespace is one of `namespaces` (what `ip netns pids` finds, for all
 * of them in one pass over /proc instead of one command per namespace).
 */
export function pidsInNamespaces(namespaces: string[]): number[] {
  const wanted = new Set<string>();
  for (const ns of namespaces) {
    try {
      wanted.add(`net:[${statSync(join("/run/netns", ns)).ino}]`);
    } catch {}
  }
  if (wanted.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (wanted.has(readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile or is not ours to inspect.
    }
  }
  return pids;
}

/** Namespaces that exist now (`ip netns list`). */
export function existingNamespaces(): string[] {
  return runSync(["ip", "netns", "list"])
    .stdout.split("\n")
    .map((l) => l.split(" ")[0]?.trim() ?? "")
    .filter((n) => n.length > 0);
}

/**
 * Removes everything a record lists: processes in its namespaces, root-namespace rules and
 * the host link, then the namespaces and the record. Synchronous so it can run inside an
 * exit handler; each step tolerates things that are already gone.
 */
export function teardownRecord(record: LabRecord): void {
  for (const pid of record.pids ?? []) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  const present = new Set(existingNamespaces());
  const namespaces = record.namespaces.filter((ns) => present.has(ns));
  for (const pid of pidsInNamespaces(namespaces)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const rule of record.hostRules ?? []) {
    runSync(["ip", `-${rule.family}`, "rule", "del", "pref", String(rule.pref)]);
  }
  if (record.hostInterface) runSync(["ip", "link", "del", record.hostInterface]);
  if (namespaces.length > 0) {
    runSync(["ip", "-force", "-batch", "-"], namespaces.map((ns) => `netns del ${ns}\n`).join(""));
  }
  if (record.slot !== undefined) releaseSlot(record.prefix, record.slot);
  rmSync(recordPath(record.prefix), { force: true });
}

/**
 * Tears down labs whose owning process is gone (labs left up on purpose excepted). Returns
 * the prefixes removed. Only recorded labs are touched: a lab writes its record before its
 * first namespace, and namespaces that merely look like a lab's may belong to someone else.
 */
export function cleanupStaleLabsSync(): string[] {
  const removed: string[] = [];
  const records = listRecords();
  for (const record of records) {
    if (record.persistent || isAlive(record.pid)) continue;
    teardownRecord(record);
    removed.push(record.prefix);
  }
  return removed;
}
