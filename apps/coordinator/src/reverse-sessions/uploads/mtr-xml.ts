import {
  checkedHops,
  type HopColumns,
  hopFrom,
  numberIn,
  quoted,
  type UploadedTrace,
  UploadParseError,
} from "./types";

/** mtr's XML element names (its column titles without `%`) and the hop field each fills. */
const ELEMENTS: Record<string, keyof HopColumns | null> = {
  Loss: "lossPct",
  Snt: "sent",
  Rcv: "recv",
  Drop: null,
  Last: "last",
  Avg: "avg",
  Best: "best",
  Wrst: "worst",
  StDev: "stdev",
  Gmean: null,
  Jttr: "jitter",
  Javg: "jitterAvg",
  Jmax: "jitterMax",
  Jint: null,
};

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
    if (!seenRoot)
      throw new UploadParseError(`line ${at} of mtr's XML: ${quoted(line)} before the <MTR> element`, at);
    if (/^<HUB[\s>]/.test(line)) {
      if (hub)
        throw new UploadParseError(
          `line ${at} of mtr's XML: a <HUB> inside the <HUB> of line ${hub.line}`,
          at,
        );
      const ttl = numberIn(attribute(line, "COUNT"));
      if (ttl === undefined || !Number.isInteger(ttl))
        throw new UploadParseError(`line ${at} of mtr's XML: the <HUB> has no hop number (COUNT)`, at);
      hub = { line: at, ttl, host: attribute(line, "HOST") ?? "" };
      return;
    }
    if (line === "</HUB>") {
      if (!hub) throw new UploadParseError(`line ${at} of mtr's XML: </HUB> without <HUB>`, at);
      if (hub.lossPct === undefined || hub.sent === undefined)
        throw new UploadParseError(
          `line ${hub.line} of mtr's XML: hop ${hub.ttl} has no <Loss> or no <Snt>`,
          hub.line,
        );
      rows.push(hub as HopColumns);
      hub = undefined;
      return;
    }
    const element = /^<([A-Za-z]+)>([^<]*)<\/\1>$/.exec(line);
    if (element && hub) {
      const name = element[1] as string;
      if (!(name in ELEMENTS))
        throw new UploadParseError(
          `line ${at} of mtr's XML: <${quoted(name, 20).slice(1, -1)}> is not a column mtr writes`,
          at,
        );
      const value = numberIn(element[2]);
      if (value === undefined)
        throw new UploadParseError(
          `line ${at} of mtr's XML: <${name}> holds ${quoted(element[2] ?? "")}, not a number`,
          at,
        );
      const field = ELEMENTS[name];
      if (field) (hub as unknown as Record<string, number>)[field] = value;
      return;
    }
    throw new UploadParseError(`line ${at} of mtr's XML: ${quoted(line)} is not what mtr --xml writes`, at);
  });
  if (!seenRoot) throw new UploadParseError("mtr's XML has no <MTR> element");
  if (hub) throw new UploadParseError(`line ${hub.line} of mtr's XML: the <HUB> is not closed`, hub.line);
  return {
    format: "mtr-xml",
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    hops: checkedHops(rows.map(hopFrom), "mtr's XML"),
  };
}
