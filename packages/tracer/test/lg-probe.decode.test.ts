import { execFileSync, spawnSync } from "node:child_process";
import { isIPv6 } from "node:net";
import { resolve } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * lg-probe's packet reader on crafted packets, through its `--decode` entry (helper/PROTOCOL.md):
 * no network, no privileges. Each packet is built here byte by byte, as a router would send it.
 */

const HELPER_DIR = resolve(import.meta.dirname, "../helper");
const LG_PROBE = resolve(HELPER_DIR, "build/lg-probe");

beforeAll(() => {
  // make rebuilds only what changed; the lock keeps test files that build at once apart.
  execFileSync("flock", ["/tmp/lg-probe-build.lock", "nice", "-n", "19", "make", "-s", "-C", HELPER_DIR]);
}, 120_000);

// ---- packet builders ----

type Bytes = number[];

const u16 = (v: number): Bytes => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): Bytes => [...u16(Math.floor(v / 0x10000) & 0xffff), ...u16(v & 0xffff)];
const v4 = (a: string): Bytes => a.split(".").map(Number);

function v6(a: string): Bytes {
  const [head = "", tail = ""] = a.split("::");
  const words = (s: string) => (s === "" ? [] : s.split(":").map((w) => Number.parseInt(w, 16)));
  const h = words(head);
  const t = a.includes("::") ? words(tail) : [];
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap(u16);
}

function checksum(bytes: Bytes): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function withChecksum(bytes: Bytes, at: number, sum = checksum(bytes)): Bytes {
  const out = [...bytes];
  out[at] = sum >> 8;
  out[at + 1] = sum & 0xff;
  return out;
}

interface Ip4 {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  options?: Bytes;
}

function ip4(h: Ip4, payload: Bytes): Bytes {
  const options = h.options ?? [];
  const ihl = 5 + options.length / 4;
  const header = [
    0x40 | ihl,
    0,
    ...u16(ihl * 4 + payload.length),
    ...u16(h.id ?? 0),
    0,
    0,
    h.ttl ?? 64,
    h.proto,
    0,
    0,
    ...v4(h.src),
    ...v4(h.dst),
    ...options,
  ];
  return [...withChecksum(header, 10), ...payload];
}

interface Ip6 {
  src: string;
  dst: string;
  next: number;
  hopLimit?: number;
  flowLabel?: number;
}

function ip6(h: Ip6, payload: Bytes): Bytes {
  const fl = h.flowLabel ?? 0;
  return [
    0x60,
    (fl >> 16) & 0x0f,
    (fl >> 8) & 0xff,
    fl & 0xff,
    ...u16(payload.length),
    h.next,
    h.hopLimit ?? 64,
    ...v6(h.src),
    ...v6(h.dst),
    ...payload,
  ];
}

/** lg-probe's probe payload: nonce, sequence, then filler. */
const probePayload = (nonce: number, seq: number, length = 36): Bytes => [
  ...u32(nonce),
  ...u16(seq),
  ...new Array(length - 6).fill(0),
];

const udp = (sport: number, dport: number, sum: number, payload: Bytes): Bytes => [
  ...u16(sport),
  ...u16(dport),
  ...u16(8 + payload.length),
  ...u16(sum),
  ...payload,
];

const tcp = (sport: number, dport: number, seq: number, ack: number, flags: number, sum: number): Bytes => [
  ...u16(sport),
  ...u16(dport),
  ...u32(seq),
  ...u32(ack),
  0x50,
  flags,
  ...u16(64240),
  ...u16(sum),
  0,
  0,
];

const echo = (type: number, id: number, seq: number, sum: number, payload: Bytes): Bytes => [
  type,
  0,
  ...u16(sum),
  ...u16(id),
  ...u16(seq),
  ...payload,
];

/** One RFC 4950 label stack entry. */
interface Label {
  label: number;
  tc: number;
  s: 0 | 1;
  ttl: number;
}

/** An RFC 4884 extension structure holding one MPLS label stack object, checksum included. */
function mplsExtension(labels: Label[]): Bytes {
  const entries = labels.flatMap((l) => u32(l.label * 4096 + l.tc * 512 + l.s * 256 + l.ttl));
  const structure = [0x20, 0, 0, 0, ...u16(4 + entries.length), 1, 1, ...entries];
  return withChecksum(structure, 2);
}

/**
 * An ICMP error: with `extension`, the quote is padded to 128 bytes and its length (in 32-bit
 * words, IPv4; 64-bit words, IPv6) is set as RFC 4884 says; `legacy` leaves the length 0 as
 * routers from before RFC 4884 do.
 */
function icmpError(
  family: 4 | 6,
  type: number,
  code: number,
  quote: Bytes,
  extension?: Bytes,
  legacy = false,
): Bytes {
  const padded = extension ? [...quote, ...new Array(Math.max(0, 128 - quote.length)).fill(0)] : quote;
  const words = extension && !legacy ? padded.length / (family === 4 ? 4 : 8) : 0;
  const header = family === 4 ? [type, code, 0, 0, 0, words, 0, 0] : [type, code, 0, 0, words, 0, 0, 0];
  return [...header, ...padded, ...(extension ?? [])];
}

const hex = (bytes: Bytes) => Buffer.from(bytes).toString("hex");

interface Decoded {
  status: number | null;
  signal: NodeJS.Signals | null;
  line: string;
  fields: Map<string, string>;
}

function decode(args: string[]): Decoded {
  const r = spawnSync(LG_PROBE, ["--decode", ...args], { encoding: "utf8" });
  const line = r.stdout.trimEnd();
  const words = line.split(" ");
  const fields = new Map<string, string>();
  for (let i = 2; i + 1 < words.length; i += 2) fields.set(words[i] as string, words[i + 1] as string);
  return { status: r.status, signal: r.signal, line, fields };
}

const decode4 = (packet: Bytes) => decode(["ip-4", hex(packet)]);
const decode6 = (source: string, message: Bytes) => decode(["ip-6", source, hex(message)]);

// ---- a probe and the routers answering it ----

const PROBER = "198.18.0.1";
const TARGET = "198.18.9.9";
const ROUTER = "198.18.1.1";
const NONCE = 0x12345678;

const udpProbe = (ttl: number) =>
  ip4({ src: PROBER, dst: TARGET, proto: 17, ttl, id: 7 }, udp(40000, 33434, 0xabcd, probePayload(NONCE, 7)));

const timeExceeded4 = (quote: Bytes, extension?: Bytes, legacy = false) =>
  ip4({ src: ROUTER, dst: PROBER, proto: 1 }, icmpError(4, 11, 0, quote, extension, legacy));

describe("lg-probe --decode: IPv4 time exceeded", () => {
  it("quoting a UDP probe names the router and reads the quoted TTL, source, ports and checksum", () => {
    const d = decode4(timeExceeded4(udpProbe(1)));
    expect(d.status).toBe(0);
    expect(d.line).toBe(
      "0 ttl-expired ip-4 198.18.1.1 round-trip-time 0 quoted-ttl 1 quoted-source 198.18.0.1 quoted-ports 40000,33434 quoted-checksum 43981",
    );
  });

  it("quoting a TCP SYN reads its ports and checksum", () => {
    const syn = ip4(
      { src: PROBER, dst: TARGET, proto: 6, ttl: 1, id: 9 },
      tcp(40001, 443, 0x12340009, 0, 0x02, 0x4242),
    );
    const d = decode4(timeExceeded4(syn));
    expect(d.line).toBe(
      "0 ttl-expired ip-4 198.18.1.1 round-trip-time 0 quoted-ttl 1 quoted-source 198.18.0.1 quoted-ports 40001,443 quoted-checksum 16962",
    );
  });

  it("quoting an ICMP echo reads its checksum (the value a flow-id holds)", () => {
    const probe = ip4(
      { src: PROBER, dst: TARGET, proto: 1, ttl: 2, id: 11 },
      echo(8, 777, 11, 777, probePayload(NONCE, 11)),
    );
    const d = decode4(timeExceeded4(probe));
    expect(d.line).toBe(
      "0 ttl-expired ip-4 198.18.1.1 round-trip-time 0 quoted-ttl 2 quoted-source 198.18.0.1 quoted-checksum 777",
    );
  });

  it("with an RFC 4884 extension of one MPLS label reads the label and still the quote", () => {
    const d = decode4(timeExceeded4(udpProbe(1), mplsExtension([{ label: 16, tc: 0, s: 1, ttl: 1 }])));
    expect(d.line).toBe(
      "0 ttl-expired ip-4 198.18.1.1 round-trip-time 0 mpls 16,0,1,1 quoted-ttl 1 quoted-source 198.18.0.1 quoted-ports 40000,33434 quoted-checksum 43981",
    );
  });

  it("with a stack of two labels lists both, top of the stack first, as mtr-packet does", () => {
    const stack: Label[] = [
      { label: 24001, tc: 0, s: 0, ttl: 1 },
      { label: 16, tc: 5, s: 1, ttl: 254 },
    ];
    for (const probe of [
      udpProbe(1),
      ip4({ src: PROBER, dst: TARGET, proto: 6, ttl: 1, id: 3 }, tcp(40001, 80, 0x12340003, 0, 0x02, 1)),
      ip4({ src: PROBER, dst: TARGET, proto: 1, ttl: 1, id: 4 }, echo(8, 1, 4, 2, probePayload(NONCE, 4))),
    ]) {
      expect(decode4(timeExceeded4(probe, mplsExtension(stack))).fields.get("mpls")).toBe(
        "24001,0,0,1,16,5,1,254",
      );
    }
  });

  it("reads an extension a pre-RFC 4884 router appends after 128 bytes without setting the length", () => {
    const d = decode4(timeExceeded4(udpProbe(1), mplsExtension([{ label: 99, tc: 1, s: 1, ttl: 7 }]), true));
    expect(d.fields.get("mpls")).toBe("99,1,1,7");
    expect(d.fields.get("quoted-ports")).toBe("40000,33434");
  });

  it("reports a quote a NAT rewrote as quoted, not as sent", () => {
    // The NAT replaced the source address, source port and checksum on the way out and did not
    // restore them in the quote on the way back.
    const rewritten = ip4(
      { src: "198.18.200.2", dst: TARGET, proto: 17, ttl: 1, id: 7 },
      udp(61000, 33434, 0x1111, probePayload(NONCE, 7)),
    );
    const d = decode4(timeExceeded4(rewritten));
    expect(d.fields.get("quoted-source")).toBe("198.18.200.2");
    expect(d.fields.get("quoted-ports")).toBe("61000,33434");
    expect(d.fields.get("quoted-checksum")).toBe(String(0x1111));
  });
});

describe("lg-probe --decode: other answers", () => {
  it("a port unreachable from the target is a reply, any other unreachable a no-route", () => {
    const from = (code: number) =>
      ip4({ src: TARGET, dst: PROBER, proto: 1 }, icmpError(4, 3, code, udpProbe(3)));
    expect(decode4(from(3)).line).toMatch(/^0 reply ip-4 198\.18\.9\.9 round-trip-time 0 quoted-ttl 3 /);
    expect(decode4(from(1)).line).toMatch(/^0 no-route ip-4 198\.18\.9\.9 /);
    expect(decode4(from(13)).line).toMatch(/^0 no-route ip-4 198\.18\.9\.9 /);
  });

  it("a TCP SYN-ACK or RST|ACK from the target is a reply", () => {
    for (const flags of [0x12, 0x14]) {
      const answer = ip4({ src: TARGET, dst: PROBER, proto: 6 }, tcp(443, 40001, 99, 0x1234000a, flags, 0));
      expect(decode4(answer).line).toBe("0 reply ip-4 198.18.9.9 round-trip-time 0");
    }
    const bareSyn = ip4({ src: TARGET, dst: PROBER, proto: 6 }, tcp(443, 40001, 99, 0, 0x02, 0));
    expect(decode4(bareSyn).line).toBe("0 decode-error reason tcp-not-syn-ack-or-rst");
  });

  it("an echo reply reads the addresses of its Record Route option in order", () => {
    const recorded = ["198.18.2.1", "198.18.3.1", "198.18.9.9", "198.18.5.1", "198.18.1.2"];
    const rr = [
      7,
      39,
      4 + 4 * recorded.length,
      ...recorded.flatMap(v4),
      ...new Array(36 - 4 * recorded.length).fill(0),
      0,
    ];
    const reply = ip4(
      { src: TARGET, dst: PROBER, proto: 1, options: rr },
      echo(0, 1, 5, 0, probePayload(NONCE, 5)),
    );
    expect(decode4(reply).line).toBe(
      `0 reply ip-4 198.18.9.9 round-trip-time 0 record-route ${recorded.join(",")}`,
    );
  });

  it("a prespecified Timestamp option reads one stamped and one unstamped address", () => {
    // Pointer 13: the first entry (5..12) is stamped, the second is not.
    const ts = [68, 20, 13, 0x03, ...v4("198.18.1.2"), ...u32(44_820_848), ...v4("198.18.4.2"), ...u32(0)];
    const reply = ip4(
      { src: TARGET, dst: PROBER, proto: 1, options: ts },
      echo(0, 1, 6, 0, probePayload(NONCE, 6)),
    );
    expect(decode4(reply).fields.get("timestamp")).toBe("198.18.1.2=44820848,198.18.4.2=-");
  });

  it("a parameter problem quoting a probe with IP options says the options were refused", () => {
    const rr = [7, 39, 4, ...new Array(36).fill(0), 0];
    const probe = ip4(
      { src: PROBER, dst: TARGET, proto: 1, ttl: 4, id: 12, options: rr },
      echo(8, 1, 12, 3, probePayload(NONCE, 12)),
    );
    const d = decode4(ip4({ src: ROUTER, dst: PROBER, proto: 1 }, icmpError(4, 12, 0, probe)));
    expect(d.line).toBe(
      "0 no-route ip-4 198.18.1.1 round-trip-time 0 quoted-ttl 4 quoted-source 198.18.0.1 quoted-checksum 3 options refused",
    );
  });
});

describe("lg-probe --decode: ICMPv6", () => {
  const PROBER6 = "2001:2::1";
  const TARGET6 = "2001:2:0:9::9";
  const ROUTER6 = "2001:2:0:1::1";
  const udpProbe6 = ip6(
    { src: PROBER6, dst: TARGET6, next: 17, hopLimit: 1, flowLabel: 0xabcde },
    udp(40000, 33434, 0x5555, probePayload(NONCE, 21)),
  );

  it("a time exceeded with an MPLS extension reads the labels, the quote and its flow label", () => {
    const message = icmpError(6, 3, 0, udpProbe6, mplsExtension([{ label: 3000, tc: 2, s: 1, ttl: 1 }]));
    expect(decode6(ROUTER6, message).line).toBe(
      "0 ttl-expired ip-6 2001:2:0:1::1 round-trip-time 0 mpls 3000,2,1,1 quoted-ttl 1 quoted-source 2001:2::1 quoted-ports 40000,33434 quoted-checksum 21845 quoted-flow-label 703710",
    );
  });

  it("a port unreachable is a reply and an echo reply is a reply", () => {
    expect(decode6(TARGET6, icmpError(6, 1, 4, udpProbe6)).line).toMatch(/^0 reply ip-6 2001:2:0:9::9 /);
    expect(decode6(TARGET6, icmpError(6, 1, 3, udpProbe6)).line).toMatch(/^0 no-route ip-6 2001:2:0:9::9 /);
    expect(decode6(TARGET6, echo(129, 1, 21, 0, probePayload(NONCE, 21))).line).toBe(
      "0 reply ip-6 2001:2:0:9::9 round-trip-time 0",
    );
  });

  it("a quote of a UDP probe cut before its payload cannot name the probe", () => {
    const cut = udpProbe6.slice(0, 40 + 8);
    expect(decode6(ROUTER6, icmpError(6, 3, 0, cut)).line).toBe("0 decode-error reason truncated-quote");
  });
});

describe("lg-probe --decode: malformed input", () => {
  it("says what is wrong with a truncated or malformed packet", () => {
    const full = timeExceeded4(udpProbe(1));
    expect(decode4(full.slice(0, 12)).line).toBe("0 decode-error reason truncated-ip-header");
    expect(decode4(full.slice(0, 40)).line).toBe("0 decode-error reason truncated-packet");
    const shortQuote = ip4(
      { src: ROUTER, dst: PROBER, proto: 1 },
      icmpError(4, 11, 0, udpProbe(1).slice(0, 12)),
    );
    expect(decode4(shortQuote).line).toBe("0 decode-error reason truncated-quote");
    expect(decode4(ip4({ src: ROUTER, dst: PROBER, proto: 1 }, [11, 0, 0])).line).toBe(
      "0 decode-error reason truncated-icmp-header",
    );
    expect(decode4(ip4({ src: ROUTER, dst: PROBER, proto: 17 }, udp(1, 2, 0, []))).line).toBe(
      "0 decode-error reason not-icmp-or-tcp",
    );
    expect(decode(["ip-4", "abc"]).line).toBe("0 decode-error reason bad-hex");
    expect(decode(["ip-6", "not-an-address", "00"]).line).toBe("0 decode-error reason bad-source");
    expect(decode4(full.slice(0, 12)).status).toBe(1);
  });

  it("answers every prefix of a packet with MPLS labels with one line and never crashes", () => {
    const packet = timeExceeded4(udpProbe(1), mplsExtension([{ label: 16, tc: 0, s: 1, ttl: 1 }]));
    for (let n = 0; n <= packet.length; n += 3) {
      const d = decode(["ip-4", hex(packet.slice(0, n))]);
      expect(d.signal).toBeNull();
      expect(d.line).toMatch(/^0 (decode-error reason [a-z-]+|ttl-expired ip-4 198\.18\.1\.1 .*)$/);
    }
  });

  it("survives random corruption of IPv4 and ICMPv6 answers", () => {
    const seeds: [4 | 6, Bytes][] = [
      [4, timeExceeded4(udpProbe(1), mplsExtension([{ label: 16, tc: 0, s: 1, ttl: 1 }]))],
      [
        6,
        icmpError(
          6,
          3,
          0,
          ip6({ src: "2001:2::1", dst: "2001:2::9", next: 58 }, echo(128, 1, 2, 3, probePayload(NONCE, 2))),
          mplsExtension([{ label: 1, tc: 0, s: 1, ttl: 1 }]),
        ),
      ],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        ([family, base], flips, cut) => {
          const packet = [...base];
          for (const [at, value] of flips) packet[at % packet.length] = value;
          const bytes = packet.slice(0, cut % (packet.length + 1) || packet.length);
          const d = family === 4 ? decode4(bytes) : decode6("2001:2::ff", bytes);
          expect(d.signal).toBeNull();
          expect([0, 1]).toContain(d.status);
          expect(d.line.split("\n")).toHaveLength(1);
          if (d.status === 0 && family === 6) expect(isIPv6(d.line.split(" ")[3] ?? "")).toBe(true);
        },
      ),
      { numRuns: 150, seed: 15 },
    );
  });
});
