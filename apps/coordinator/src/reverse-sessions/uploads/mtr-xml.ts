import { lineError, MTR_COLUMNS, traceFrom } from "./line-formats";
import { type HopColumns, numberIn, quoted, type UploadedTrace, UploadParseError } from "./types";

const WHAT = "mtr's XML";

/** mtr's XML element names: its column titles without `%` (`<Loss>`), each filling the same hop field. */
const ELEMENTS = Object.fromEntries(
  Object.entries(MTR_COLUMNS).map(([title, field]) => [title.replace("%", ""), field]),
);

/** An attribute of a start tag; mtr writes them double-quoted and unescaped. */
const attribute = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/**
 * Reads `mtr --xml`: `<MTR SRC DST …>` around one `<HUB COUNT HOST>` per hop, each holding one
 * element per column (`<Loss>`, `<Snt>`, `<Last>`…). Read line by line, as mtr writes it: nothing in
 * it is interpreted as markup beyond those tags (no entities, no external references). The format
 * carries no start time.
 */
export function parseMtrXmlText(text: string): UploadedTrace {
  const lines = text.split(/\r?\n/);
  let source: string | undefined;
  let destination: string | undefined;
  let seenRoot = false;
  let hub: (Partial<HopColumns> & { line: number }) | undefined;
  const rows: HopColumns[] = [];
  lines.forEach((raw, i) => {
    const at = i + 1;
    const line = raw.trim();
    if (!line || /^<\?xml[^>]*\?>$/.test(line)) return;
    if (/^<MTR[\s>]/.test(line)) {
      seenRoot = true;
      source = attribute(line, "SRC");
      destination = attribute(line, "DST");
      return;
    }
    if (line === "</MTR>") return;
    if (!seenRoot) throw lineError(WHAT, at, `${quoted(line)} before the <MTR> element`);
    if (/^<HUB[\s>]/.test(line)) {
      if (hub) throw lineError(WHAT, at, `a <HUB> inside the <HUB> of line ${hub.line}`);
      const ttl = numberIn(attribute(line, "COUNT"));
      if (ttl === undefined || !Number.isInteger(ttl))
        throw lineError(WHAT, at, "the <HUB> has no hop number (COUNT)");
      hub = { line: at, ttl, host: attribute(line, "HOST") ?? "" };
      return;
    }
    if (line === "</HUB>") {
      if (!hub) throw lineError(WHAT, at, "</HUB> without <HUB>");
      if (hub.lossPct === undefined || hub.sent === undefined)
        throw lineError(WHAT, hub.line, `hop ${hub.ttl} has no <Loss> or no <Snt>`);
      rows.push(hub as HopColumns);
      hub = undefined;
      return;
    }
    const element = /^<([A-Za-z]+)>([^<]*)<\/\1>$/.exec(line);
    if (element && hub) {
      const name = element[1] as string;
      if (!(name in ELEMENTS))
        throw lineError(WHAT, at, `<${quoted(name, 20).slice(1, -1)}> is not a column mtr writes`);
      const value = numberIn(element[2]);
      if (value === undefined)
        throw lineError(WHAT, at, `<${name}> holds ${quoted(element[2] ?? "")}, not a number`);
      const field = ELEMENTS[name];
      if (field) (hub as unknown as Record<string, number>)[field] = value;
      return;
    }
    throw lineError(WHAT, at, `${quoted(line)} is not what mtr --xml writes`);
  });
  if (!seenRoot) throw new UploadParseError(`${WHAT} has no <MTR> element`);
  if (hub) throw lineError(WHAT, hub.line, "the <HUB> is not closed");
  return traceFrom("mtr-xml", WHAT, rows, { source, destination });
}
