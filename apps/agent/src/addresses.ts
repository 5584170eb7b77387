import os from "node:os";

export type InterfaceTable = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * The host's own addresses that others could reach: every interface address except loopback and
 * IPv6 link-local (which needs an interface to mean anything). Inside a network namespace this
 * lists the namespace's interfaces.
 */
export function detectPublicAddresses(interfaces: InterfaceTable = os.networkInterfaces()): string[] {
  const found: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (entry.internal) continue;
      if (entry.family === "IPv6" && /^fe[89ab]/i.test(entry.address)) continue;
      if (!found.includes(entry.address)) found.push(entry.address);
    }
  }
  return found;
}

/** Every address configured on this host, loopback included (to check a requested source address). */
export function localAddresses(interfaces: InterfaceTable = os.networkInterfaces()): Set<string> {
  const all = new Set<string>();
  for (const list of Object.values(interfaces)) for (const entry of list ?? []) all.add(entry.address);
  return all;
}
