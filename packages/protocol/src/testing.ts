import type { Hop } from "./trace";

export { startTestDns, type TestDnsAnswer, type TestDnsQuery, type TestDnsServer } from "./testing-dns";

/**
 * A hop for tests: `sent` probes all answered by `host` with 1 ms each, or all lost when `host`
 * is null. `extra` overrides any field.
 *
 * @example
 * const hops = [hopOf(1, "198.18.1.2"), hopOf(2, null), hopOf(3, "198.18.3.2", 5, { lossPct: 20 })];
 */
export function hopOf(ttl: number, host: string | null, sent = 10, extra: Partial<Hop> = {}): Hop {
  const recv = host ? sent : 0;
  return {
    ttl,
    host,
    lossPct: host ? 0 : 100,
    sent,
    recv,
    drop: sent - recv,
    last: 1,
    avg: 1,
    best: 1,
    worst: 1,
    stdev: 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: host ? [{ address: host, count: sent }] : [],
    ...extra,
  };
}
