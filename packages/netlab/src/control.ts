import { cleanupStaleLabsSync, isAlive, listRecords, readRecord, teardownRecord } from "./registry";

/** Removes leftovers of crashed runs (labs whose owning process is gone). Returns their prefixes. */
export async function cleanupStaleLabs(): Promise<string[]> {
  return cleanupStaleLabsSync();
}

export interface LabSummary {
  prefix: string;
  pid: number;
  /** Whether the owning process still runs. */
  alive: boolean;
  /** Left up on purpose (`lg lab up`); otherwise a dead owner makes it a leftover. */
  persistent: boolean;
  /** Host-link slot, if the lab has a link from the root namespace. */
  slot?: number;
  createdAt: string;
  namespaces: string[];
}

/** Labs with a registry record, live or left over. */
export function listLabs(): LabSummary[] {
  return listRecords().map((r) => ({
    prefix: r.prefix,
    pid: r.pid,
    alive: isAlive(r.pid),
    persistent: r.persistent ?? false,
    ...(r.slot !== undefined ? { slot: r.slot } : {}),
    createdAt: r.createdAt,
    namespaces: r.namespaces,
  }));
}

/** Tears down a lab by prefix, whoever owns it (the owner's processes inside are killed). */
export function teardownLab(prefix: string): boolean {
  const record = readRecord(prefix);
  if (!record) return false;
  teardownRecord(record);
  return true;
}
