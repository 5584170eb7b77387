import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tracer } from "../tracer";
import { LgProbePort } from "./helper-pool";

/**
 * RFC 4950 label stacks through lg-probe's port into the hop statistics, for every probe type and
 * family. A shell script stands in for lg-probe and prints the answer lines lg-probe prints (its own
 * decoding of the ICMP extensions is tested on crafted packets in test/lg-probe.decode.test.ts):
 * TTL 1 and 2 expire at 198.18.0.<ttl> (2001:2::<ttl>) with two labels — the top one 16, 17 or 18
 * for ICMP, UDP or TCP probes, so a stack can only have come from an answer to that probe type —
 * and TTL 3 reaches the target.
 */
const FAKE_LG_PROBE = `#!/bin/sh
while read -r token command family address rest; do
  [ "$command" = send-probe ] || continue
  set -- $rest
  ttl=255; protocol=icmp
  while [ $# -gt 1 ]; do
    case "$1" in ttl) ttl=$2 ;; protocol) protocol=$2 ;; esac
    shift 2
  done
  case $protocol in icmp) top=16 ;; udp) top=17 ;; *) top=18 ;; esac
  if [ "$family" = ip-4 ]; then router=198.18.0.$ttl; else router=2001:2::$ttl; fi
  if [ "$ttl" -lt 3 ]; then
    echo "$token ttl-expired $family $router round-trip-time 500 mpls $top,0,0,254,1000$ttl,5,1,1 quoted-ttl 1"
  else
    echo "$token reply $family $address round-trip-time 900"
  fi
done
`;

let dir: string;
let fake: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lg-mpls-"));
  fake = join(dir, "lg-probe");
  await writeFile(fake, FAKE_LG_PROBE);
  await chmod(fake, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TOP = { icmp: 16, udp: 17, tcp: 18 } as const;

describe("MPLS label stacks through lg-probe reach the hop statistics", () => {
  it.each([
    ["icmp", 4],
    ["udp", 4],
    ["tcp", 4],
    ["icmp", 6],
    ["udp", 6],
    ["tcp", 6],
  ] as const)(
    "%s probes over IPv%s: each router's stack, on the hop and on its responder",
    async (protocol, family) => {
      const tracer = new Tracer({ port: new LgProbePort({ command: fake }), resolveNames: false });
      const target = family === 4 ? "198.18.0.9" : "2001:2::9";
      try {
        const result = await tracer.run({
          target,
          options: { protocol, pinFlow: true, count: 2, interval: 0.05, timeout: 1 },
          followUps: false,
        });
        expect(result.hops.map((h) => h.host)).toEqual(
          family === 4 ? ["198.18.0.1", "198.18.0.2", target] : ["2001:2::1", "2001:2::2", target],
        );
        for (const ttl of [1, 2]) {
          const stack = [
            { label: TOP[protocol], tc: 0, bottom: false, ttl: 254 },
            { label: Number(`1000${ttl}`), tc: 5, bottom: true, ttl: 1 },
          ];
          const hop = result.hops[ttl - 1];
          expect(hop?.mpls, `hop ${ttl}`).toEqual(stack);
          expect(hop?.responders[0]?.mpls, `hop ${ttl}`).toEqual(stack);
        }
        expect(result.hops[2]).not.toHaveProperty("mpls");
      } finally {
        await tracer.close();
      }
    },
  );
});
