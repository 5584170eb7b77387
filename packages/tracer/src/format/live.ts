import type { Hop } from "@lg/protocol";
import { type Field, fieldsOf } from "./fields";
import { hostLabel, type NamingOptions } from "./naming";

export interface LiveTableOptions extends NamingOptions {
  target: string;
  address: string;
  localHostname: string;
  /** Terminal width; the host column takes what the numbers leave. */
  columns: number;
  fields?: string;
  now?: Date;
  cycle?: number;
  count?: number;
}

/** The screen of the interactive view, like mtr's curses display, as lines of text. */
export function formatLiveTable(hops: Hop[], opts: LiveTableOptions): string[] {
  const fields: Field[] = fieldsOf(opts.fields);
  const numbers = fields.reduce((n, f) => n + f.width, 0);
  const hostWidth = Math.max(20, opts.columns - numbers - 5);
  const title = `lg trace ${opts.target}${opts.target === opts.address ? "" : ` (${opts.address})`}`;
  const when = (opts.now ?? new Date()).toISOString().replace("T", " ").slice(0, 19);
  const progress = opts.count ? `  cycle ${opts.cycle ?? 0}/${opts.count}` : "";
  const lines = [
    `${opts.localHostname} -> ${title}`.padEnd(Math.max(0, opts.columns - when.length - 1)) + when,
    `Keys: q or Ctrl-C quit${progress}`,
    "",
    `${" ".repeat(5)}${"Host".padEnd(hostWidth)}${fields.map((f) => f.title.padStart(f.width)).join("")}`,
  ];
  for (const hop of hops) {
    const label = hostLabel(hop, opts).slice(0, hostWidth - 1);
    lines.push(
      ` ${String(hop.ttl).padStart(2)}. ${label.padEnd(hostWidth)}${fields.map((f) => f.cell(hop)).join("")}`,
    );
    for (const r of hop.responders) {
      if (r.address === hop.host) continue;
      lines.push(`     ${r.address}`.slice(0, opts.columns));
    }
  }
  return lines.map((l) => l.slice(0, opts.columns));
}
