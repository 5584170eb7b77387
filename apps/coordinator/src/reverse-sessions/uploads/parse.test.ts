import { readFileSync } from "node:fs";
import { diagnose } from "@lg/analysis";
import { describe, expect, it } from "vitest";
import { detectFormat, readUpload, UploadParseError } from "./parse";

/**
 * The mtr fixtures are mtr 0.95's own output, recorded in the reference lab by
 * `fixtures/record.ts` (the customer host cust, behind the NAT, tracing the PoP fra, the lossy
 * target tloss, the ECMP pair and the black hole; IPv6 from fra). The WinMTR fixtures are built
 * from WinMTR 0.92's export code, `WinMTRDialog::OnEXPT` (text), `OnEXPH` (HTML) and `OnCTTC`
 * (text to the clipboard) in WinMTRDialog.cpp of Appnor's WinMTR source (as published in
 * github.com/White-Tiger/WinMTR and its forks): `"|%40s - %4d | %4d | %4d | %4d | %4d | %4d | %4d |"`
 * per hop (host, Loss %, Sent, Recv, Best, Avrg, Wrst, Last), framed by its title and column lines
 * and "WinMTR v0.92 GPL V2 by Appnor MSP …"; the HTML is one `<tr><td>…</td>…</tr>` per hop after
 * a header row. The files are written with fopen(…, "wt"), so on Windows each "\r\n" ends up "\r\r\n".
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const lab = JSON.parse(fixture("lab.json")) as Record<string, string>;
const hosts = (name: string) => readUpload(fixture(name)).hops.map((h) => h.host);

/** cust -> fra, cust -> tloss and cust -> thole in the reference lab: the NAT's LAN side first. */
const TO_FRA = ["198.19.11.1", "198.18.10.1", "198.18.6.2", lab.fra];
const TO_LOSS = [
  "198.19.11.1",
  "198.18.10.1",
  "198.18.6.2",
  "198.18.2.2",
  "198.18.30.2",
  "198.18.31.2",
  lab.loss,
];
const TO_HOLE = ["198.19.11.1", "198.18.10.1", "198.18.5.1", "198.18.4.1", null];

function parseError(text: string): UploadParseError {
  try {
    readUpload(text);
  } catch (err) {
    if (err instanceof UploadParseError) return err;
    throw err;
  }
  throw new Error("the text was read without an error");
}

describe("mtr's report (-r, -r -w)", () => {
  it("a plain report gives each hop's responder, counts and times, and its Start: as the start time", () => {
    const t = readUpload(fixture("mtr-report.txt"));
    expect(t.format).toBe("mtr-report");
    expect(t.source).toBe("vm");
    expect(t.hops.map((h) => h.host)).toEqual(TO_FRA);
    const start = /^Start: (\S+)/.exec(fixture("mtr-report.txt"))?.[1] as string;
    expect(t.startedAt?.toISOString()).toBe(new Date(start.replace(/(\d\d)(\d\d)$/, "$1:$2")).toISOString());
    // 1.|-- host Loss% Snt Last Avg Best Wrst StDev
    const line1 = fixture("mtr-report.txt").split("\n")[2]?.trim().split(/\s+/) as string[];
    expect(t.hops[0]).toMatchObject({
      ttl: 1,
      sent: 10,
      recv: 10,
      drop: 0,
      lossPct: 0,
      last: Number(line1[4]),
      avg: Number(line1[5]),
      best: Number(line1[6]),
      worst: Number(line1[7]),
      stdev: Number(line1[8]),
    });
  });

  it("a wide report with loss gives each hop's received count from Loss% of Snt, and its 95% interval", () => {
    const t = readUpload(fixture("mtr-report-wide-loss.txt"));
    expect(t.hops.map((h) => h.host)).toEqual(TO_LOSS);
    const lossy = t.hops.filter((h) => h.lossPct > 0);
    expect(lossy.map((h) => h.ttl)).toEqual([5, 6, 7]);
    for (const h of lossy) {
      expect(h.recv).toBe(Math.round((h.sent * (100 - h.lossPct)) / 100));
      expect(h.drop).toBe(h.sent - h.recv);
      expect(h.lossCi?.[0]).toBeLessThan(h.lossPct);
    }
  });

  it("the lines under a hop of a wide report are its further responders (ECMP)", () => {
    const t = readUpload(fixture("mtr-report-wide-ecmp.txt"));
    expect(t.hops[4]?.responders.map((r) => r.address)).toEqual(["198.18.70.2", "198.18.71.2"]);
    expect(t.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("columns asked with -o are read by their titles: Rcv as given, jitter, Best before Avg", () => {
    const text = fixture("mtr-report-fields.txt");
    const t = readUpload(text);
    const line5 = text
      .split("\n")
      .find((l) => l.startsWith("  5."))
      ?.trim()
      .split(/\s+/) as string[];
    // 5.|-- host Loss% Snt Rcv Drop Last Best Avg Wrst StDev Jttr Javg Jmax Jint
    expect(t.hops[4]).toMatchObject({
      host: "198.18.30.2",
      sent: Number(line5[3]),
      recv: Number(line5[4]),
      last: Number(line5[6]),
      best: Number(line5[7]),
      avg: Number(line5[8]),
      worst: Number(line5[9]),
      jitter: Number(line5[11]),
      jitterMax: Number(line5[13]),
    });
  });

  it("an IPv6 report and a black hole's silent hop (???) are read", () => {
    expect(hosts("mtr-report-wide6.txt")).toEqual([
      "2001:2:0:1::2",
      "2001:2:0:2::2",
      "2001:2:0:3::2",
      lab.clean6,
    ]);
    const hole = readUpload(fixture("mtr-report-wide-hole.txt"));
    expect(hole.hops.map((h) => h.host)).toEqual(TO_HOLE);
    expect(hole.hops[4]).toMatchObject({ lossPct: 100, recv: 0, avg: 0, responders: [] });
  });

  it("names as mtr prints them without -n, with -b and with -z are read", () => {
    const text = fixture("mtr-report-wide.txt")
      .replace("198.19.11.1 ", "router.lan (198.19.11.1)")
      .replace("|-- 198.18.10.1", " AS64500  nat.example.net");
    const t = readUpload(text);
    expect(t.hops[0]).toMatchObject({ host: "198.19.11.1", name: "router.lan" });
    expect(t.hops[1]).toMatchObject({ host: "nat.example.net", name: "nat.example.net" });
  });

  it("a Start: line without a time zone (mtr before 0.93) is no start time, and says why", () => {
    const t = readUpload(
      fixture("mtr-report.txt").replace(/^Start: .*$/m, "Start: Thu Nov 24 10:00:00 2016"),
    );
    expect(t.startedAt).toBeUndefined();
    expect(t.timeNote).toMatch(/has no time zone/);
  });
});

describe("mtr --json, -C and --xml", () => {
  it("--json gives the hops with mtr's microsecond times and the traced destination; no start time", () => {
    const t = readUpload(fixture("mtr-json.txt"));
    expect(t.format).toBe("mtr-json");
    expect(t.destination).toBe(lab.fra);
    expect(t.startedAt).toBeUndefined();
    expect(t.hops.map((h) => h.host)).toEqual(TO_FRA);
    const raw = JSON.parse(fixture("mtr-json.txt")).report.hubs[0];
    expect(t.hops[0]).toMatchObject({
      last: raw.Last,
      avg: raw.Avg,
      best: raw.Best,
      worst: raw.Wrst,
      stdev: raw.StDev,
    });
    expect(hosts("mtr-json-hole.txt")).toEqual(TO_HOLE);
  });

  it("-C gives Start_Time as the start time and the traced Host as the destination", () => {
    const t = readUpload(fixture("mtr-loss.csv"));
    expect(t.format).toBe("mtr-csv");
    const startTime = Number(fixture("mtr-loss.csv").split("\n")[1]?.split(",")[1]);
    expect(t.startedAt?.getTime()).toBe(startTime * 1000);
    expect(t.destination).toBe(lab.loss);
    expect(t.hops.map((h) => h.host)).toEqual(TO_LOSS);
    expect(t.hops[4]?.recv).toBe(Math.round((10 * (100 - (t.hops[4]?.lossPct ?? 0))) / 100));
    expect(hosts("mtr.csv")).toEqual(TO_FRA);
    expect(hosts("mtr-hole.csv")).toEqual(TO_HOLE);
  });

  it("--xml gives the hops, the source and the destination", () => {
    const t = readUpload(fixture("mtr.xml"));
    expect(t).toMatchObject({ format: "mtr-xml", source: "vm", destination: lab.fra });
    expect(t.hops.map((h) => h.host)).toEqual(TO_FRA);
    expect(hosts("mtr-loss.xml")).toEqual(TO_LOSS);
    expect(hosts("mtr-hole.xml")).toEqual(TO_HOLE);
  });

  it("every mtr format of the same path names the same responders at the same hops", () => {
    for (const f of ["mtr-report-wide-loss.txt", "mtr-json-loss.txt", "mtr-loss.csv", "mtr-loss.xml"])
      expect(hosts(f), f).toEqual(TO_LOSS);
  });
});

describe("WinMTR's exports", () => {
  it("the text export (\\r\\r\\n line ends) gives one hop per row, in order, with WinMTR's Recv", () => {
    const t = readUpload(fixture("winmtr-export.txt"));
    expect(t.format).toBe("winmtr-text");
    expect(t.startedAt).toBeUndefined();
    expect(t.hops.map((h) => h.host)).toEqual(TO_LOSS);
    expect(t.hops[6]).toMatchObject({ ttl: 7, lossPct: 30, sent: 60, recv: 42, avg: 1, worst: 3 });
  });

  it("the clipboard text: a DNS name is the hop's name, 'No response from host' a silent hop", () => {
    const t = readUpload(fixture("winmtr-clipboard.txt"));
    expect(t.hops[0]).toMatchObject({ host: "gateway.lan", name: "gateway.lan" });
    expect(t.hops.slice(4).map((h) => [h.host, h.recv])).toEqual([
      [null, 0],
      [null, 0],
    ]);
  });

  it("the HTML export gives the same hops as the text export", () => {
    const html = readUpload(fixture("winmtr-export-html.txt"));
    expect(html.format).toBe("winmtr-html");
    expect(html.hops).toEqual(readUpload(fixture("winmtr-export.txt")).hops);
  });
});

describe("one reading: an upload goes through the same diagnosis as a traced path", () => {
  it("the lossy path's loss from hop 5 to the destination is real loss at hop 5", () => {
    const t = readUpload(fixture("winmtr-export.txt"));
    const d = diagnose(t.hops, { destination: lab.loss as string, reachedDestination: true });
    expect(d.verdict).toBe("problem");
    expect(d.findings.find((f) => f.code === "real-loss")?.hops[0]).toBe(5);
  });
});

describe("what cannot be read is refused with what and where", () => {
  it("text no tool wrote names the formats read and quotes its first line", () => {
    const e = parseError("hello\nworld");
    expect(e.message).toMatch(/^not a trace this looking glass reads: expected mtr's report/);
    expect(e.message).toContain('the text begins "hello"');
    expect(parseError("  \n").message).toBe("the upload is empty");
  });

  it("a report line with a word where a number belongs names the line and the column", () => {
    const text = fixture("mtr-report.txt").replace(/(\n {2}3\.\|-- \S+\s+\S+\s+)10/, "$1ten");
    const e = parseError(text);
    expect(e.line).toBe(5);
    expect(e.message).toBe('line 5 of the mtr report: "ten" is not a number (column 2 of 7)');
  });

  it("JSON without mtr's hubs names the path; broken JSON says so", () => {
    expect(parseError('{"report": {"mtr": {}}}').message).toMatch(/^mtr's JSON at report\.hubs: /);
    expect(
      parseError('{"report": {"mtr": {}, "hubs": [{"count": 1, "host": "x", "Loss%": "a", "Snt": 1}]}}')
        .message,
    ).toMatch(/^mtr's JSON at report\.hubs\[0\]\.Loss%: /);
    expect(parseError('{"report": ').message).toMatch(/^mtr's JSON is not JSON/);
  });

  it("CSV, XML and WinMTR lines that are not the tool's name their line", () => {
    const csv = fixture("mtr.csv").replace(/\n(MTR\.0\.95,)\d+/, "\n$1yesterday");
    expect(parseError(csv)).toMatchObject({
      line: 2,
      message: 'line 2 of mtr\'s CSV: Start_Time "yesterday" is not Unix seconds',
    });
    const two = `${fixture("mtr.csv").trimEnd()}\n${fixture("mtr-loss.csv").split("\n")[1]}\n`;
    expect(parseError(two).message).toMatch(
      /^line 6 of mtr's CSV: traces "198\.18\.32\.2", the lines above "198\.18\.1\.1"/,
    );
    const xml = fixture("mtr.xml").replace("<Snt>", "<script>").replace("</Snt>", "</script>");
    expect(parseError(xml)).toMatchObject({
      line: 5,
      message: "line 5 of mtr's XML: <script> is not a column mtr writes",
    });
    const win = fixture("winmtr-clipboard.txt").replace("gateway.lan -    0 |", "gateway.lan -    x |");
    expect(parseError(win).line).toBe(5);
  });
});

describe("detectFormat", () => {
  it("tells each fixture's tool from how it begins", () => {
    expect(
      [
        "mtr-report.txt",
        "mtr-json.txt",
        "mtr.csv",
        "mtr.xml",
        "winmtr-export.txt",
        "winmtr-export-html.txt",
      ].map((f) => detectFormat(fixture(f))),
    ).toEqual(["mtr-report", "mtr-json", "mtr-csv", "mtr-xml", "winmtr-text", "winmtr-html"]);
  });
});
