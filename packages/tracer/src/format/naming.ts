import type { Hop } from "@lg/protocol";

export interface NamingOptions {
  /** Show reverse-DNS names where known (mtr without -n). Default true. */
  useNames?: boolean;
  /** Show "name (address)" (mtr -b). */
  showIps?: boolean;
}

/** How mtr prints a hop's host: `???` when silent, the name, the address, or both. */
export function hostLabel(hop: Hop, opts: NamingOptions = {}): string {
  if (!hop.host) return "???";
  const name = opts.useNames === false ? undefined : hop.name;
  if (!name) return hop.host;
  return opts.showIps ? `${name} (${hop.host})` : name;
}

/** Local time as mtr prints it: 2026-11-23T07:38:25+0000. */
export function isoLocal(date: Date): string {
  const p = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, "0");
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}${sign}${p(off / 60)}${p(off % 60)}`
  );
}
