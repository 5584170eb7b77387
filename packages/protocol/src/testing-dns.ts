import dgram from "node:dgram";
import ipaddr from "ipaddr.js";

/**
 * A DNS server on loopback for tests (UDP, A and AAAA only), so resolution is tested against a
 * real server without touching the machine's DNS. Each query is answered by `answer`, which may
 * also leave it unanswered, as a server that never replies would.
 */

/** Addresses for the name (each query gets those of its own family), or a failure. */
export type TestDnsAnswer = readonly string[] | "silent" | "nxdomain" | "servfail";

export interface TestDnsQuery {
  /** Lower-case, without the trailing dot. */
  name: string;
  type: "A" | "AAAA" | "other";
  /** How many queries of this name and type arrived so far, this one included (1 for the first). */
  count: number;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as LG_DNS_SERVERS takes it. */
  server: string;
  port: number;
  /** Every query received, in order. */
  queries: TestDnsQuery[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE = { noerror: 0, servfail: 2, nxdomain: 3 } as const;

/** The question of a query: its name, type, and where the question section ends. */
function readQuestion(msg: Buffer): { name: string; qtype: number; end: number } | null {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    const len = msg[at];
    if (len === undefined || len > 63) return null;
    at++;
    if (len === 0) break;
    labels.push(msg.subarray(at, at + len).toString("latin1"));
    at += len;
  }
  if (at + 4 > msg.length) return null;
  return { name: labels.join(".").toLowerCase(), qtype: msg.readUInt16BE(at), end: at + 4 };
}

function reply(query: Buffer, end: number, rcode: number, records: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, the query's RD bit, RA, and the response code.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, end), ...records]);
}

function record(qtype: number, address: string): Buffer {
  const data = Buffer.from(ipaddr.parse(address).toByteArray());
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  head.writeUInt16BE(qtype, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(0, 6); // TTL 0: nobody may cache it, so every query reaches the server
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

/**
 * Starts the server on 127.0.0.1 and a free port.
 *
 * @example
 * const dns = await startTestDns(({ name }) => (name === "slow.test" ? "silent" : ["127.0.0.2"]));
 * const resolver = createTargetResolver({ servers: [dns.server] });
 */
export async function startTestDns(answer: (query: TestDnsQuery) => TestDnsAnswer): Promise<TestDnsServer> {
  const socket = dgram.createSocket("udp4");
  const queries: TestDnsQuery[] = [];
  const counts = new Map<string, number>();
  socket.on("message", (msg, peer) => {
    const question = readQuestion(msg);
    if (!question) return;
    const type = question.qtype === TYPE_A ? "A" : question.qtype === TYPE_AAAA ? "AAAA" : "other";
    const key = `${type} ${question.name}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    const query = { name: question.name, type, count } as const;
    queries.push(query);
    const result = answer(query);
    if (result === "silent") return;
    let out: Buffer;
    if (result === "nxdomain" || result === "servfail") {
      out = reply(msg, question.end, RCODE[result], []);
    } else {
      const family = type === "A" ? "ipv4" : type === "AAAA" ? "ipv6" : null;
      const records = result
        .filter((a) => family !== null && ipaddr.parse(a).kind() === family)
        .map((a) => record(question.qtype, a));
      out = reply(msg, question.end, RCODE.noerror, records);
    }
    socket.send(out, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const { port } = socket.address();
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
