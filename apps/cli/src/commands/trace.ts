import { type Command, Option } from "commander";
import type { TraceFlags } from "./trace-run";

/** The tracer's JITTER_ORDER, written out so help needs no engine (trace.test.ts checks they agree). */
export const JITTER_COLUMNS = "LS NABWV JMX";

const HELP_AFTER = `
Description:
  Traces the route to TARGET from this machine the way mtr does: every cycle sends one probe
  to each TTL, spread evenly over the interval, and keeps per-hop statistics (Loss%, Snt,
  Last, Avg, Best, Wrst, StDev, jitter). Probing of a cycle stops at the destination, after
  -U silent hops in a row, or at -m. Probes are sent by mtr-packet (Debian package mtr-tiny),
  and the flows mtr-packet cannot hold (below) by lg-probe, lg's own helper.
  Unlike mtr, the trace ends as soon as no outstanding probe can still change the result
  instead of always waiting the grace period (-G).

  TARGET is an IP address or a hostname. There is no target policy: it is your own machine.

Output:
  On a terminal a live table is redrawn after every answer (q or Ctrl-C ends the trace and
  prints what was measured). When standard output is not a terminal the report is printed at
  the end, as with -r. Ctrl-C always ends the trace and prints the result so far.
  -r, -w   mtr's report: header "HOST: ... Loss% Snt Last Avg Best Wrst StDev", then Loss%CI,
           one line per hop ("???" for a silent hop), other responders of a hop on lines below
           it; follow-up probes, what --until-sure added, a NAT and Record Route hints are
           printed under it.
  -j       mtr's JSON schema (report.mtr, report.hubs[] with count, host, Loss%, Snt, Last, Avg,
           Best, Wrst, StDev); everything else (all responders with counts, jitter, MPLS, raw
           counts, each hop's lossCi, stop reason, followUps, adaptive, nat, recordRoute) under
           the top-level key "lg".
  -C       mtr's CSV layout (Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,...).
  --ndjson one JSON object per line as things happen: start, hop, cycle, then done or error.

Loss interval (column Loss%CI in the report and live table, lossCi in -j and --ndjson):
  the range of loss rates each hop's probes are consistent with, 95% Wilson interval: 3 lost
  of 10 is 10.8-60.3%, none lost of 10 still allows up to 27.8%. It comes after mtr's columns,
  which stay where mtr puts them (-o "LS NABWV" prints exactly mtr's; -o takes C for it).

Follow-up probes (ICMP traces):
  When the trace ends in silence after a hop that answers, the destination is asked before the
  trace finishes: 3 TCP SYN to --service-port (else 3 to 443 and 3 to 80) and 3 UDP probes to
  port 33434, at TTL 64, waiting at least 1 s (3 x the worst RTT on slow paths, at most -Z).
  An answer from the destination (SYN-ACK or RST; ICMP port unreachable) shows it is there and
  ignores ICMP echo; silence leaves a dead node or a destination that filters everything. They
  are printed under the report (and in -j under lg.followUps); --no-follow-ups skips them.

Until sure (--until-sure):
  When the diagnosis after -c cycles cannot decide whether a loss persists (an inconclusive
  finding: throttling or real loss?), keep running cycles over the whole path until it is
  decided, at least 5 cycles at a time, at most 4 x -c cycles in all and never more than 200
  beyond -c. The line under the report says how many more probes per hop settled it.

Flow control (ICMP, UDP and TCP, IPv4 and IPv6):
  --pin-flow gives every probe the same flow, so ECMP routers keep them on one path: the same
  ports for UDP and TCP (-P, -L; default 33434 <- 33433, TCP to 80), the same ICMP checksum and
  identifier for ICMP, and over IPv6 the same flow label. -u -P -L and -T -L pin the flow too.
  --mda instead gives each cycle its own flow (source port, ICMP flow id, IPv6 flow label:
  40000 + cycle), the same at every TTL, and adds cycles until, at every hop, enough probes were
  sent that a further next hop would have shown up with 95% probability (6 probes for 1
  responder, 11 for 2, 16 for 3, ...).
  mtr-packet holds IPv4 UDP flows (it sends those); every other pinned or enumerated flow, and -L
  on TCP or IPv6 probes, is sent by lg-probe: LG_PROBE_HELPER, else
  /usr/local/libexec/lg/lg-probe, else the checkout's packages/tracer/helper/build/lg-probe.
  Without it those traces are refused (run ./scripts/setup), never traced some other way.

NAT (probes sent by lg-probe):
  lg-probe reports what each router's ICMP error quotes of the probe. When the hops up to k
  quote it as sent and every hop after k quotes it rewritten (source address, port or
  checksum; each hop by most of its quotes, and two rewritten quotes at least), a line under
  the report says "NAT between hop k and hop k+1" (-j: lg.nat). Probes mtr-packet sends (free
  flows, IPv4 UDP) carry no quotes: then nothing is said. A NAT that restores the whole quote
  (Linux conntrack does) cannot be seen this way.

Record Route (--record-route, IPv4, lg-probe):
  After the trace, 3 ICMP echo probes to the target carry the Record Route option, with 3 plain
  ones beside them. Linux routers record the address they forward from, the target records
  its address twice (as the probe arrives, as it answers), then the routers of the way back
  record theirs: the lines "Way there" and "Way back (Record Route, hints)" under the report
  (-j: lg.recordRoute). Hints, not a trace: 9 slots in all, and a router that does not record
  is missing. Replies without the option say it was stripped; a parameter problem, or probes
  with it unanswered while the plain ones are answered, say the path refuses it.

Examples:
  lg trace 198.18.1.1                        live table
  lg trace -r -c 10 -i 0.2 198.18.1.1        report of 10 cycles, 5 per second
  lg trace -n -w -T -P 443 example.net       TCP SYN to port 443, no reverse DNS
  lg trace -j -c 5 198.18.1.1 | jq '.report.hubs[] | {host, loss: ."Loss%"}'
  lg trace -u --mda -r 198.18.1.1            every ECMP responder per hop
  lg trace -T -P 443 -L 40000 -r 198.18.1.1  one TCP flow, the path a connection to 443 takes
  lg trace --ndjson -c 20 198.18.1.1         live events for another program
  lg trace -r --service-port 8080 198.18.1.1 a silent end is asked on TCP 8080 (and UDP)
  lg trace -r -c 10 --until-sure 198.18.1.1  more cycles until the loss reading is decided
  lg trace -r --record-route 198.18.1.1      and the way back, as Record Route hints

Places (--geo):
  Each hop's place comes from the operator's table (LG_GEO_PREFIXES: CIDR,lat,lon,city,country per
  line) or, for public addresses only, the offline DB-IP city database; it is printed under the
  report and carried as "geo" in -j and --ndjson. With LG_LOCATION="lat,lon" (this machine), a hop
  whose best RTT r ms cannot reach the place (at most r/2 x 200 km, light in fibre) is marked
  RULED OUT with the reason.

Exit status:
  0 when the trace ran, whatever the path looked like (also after Ctrl-C: the result so far is
  printed); 1 when the trace could not run (unresolvable name, no permission to send,
  mtr-packet missing); 2 on bad flags or a combination that cannot run here (e.g. --mda with
  --pin-flow, or a flow that needs lg-probe when it is not installed). Either way one line on
  standard error says why.

Permissions:
  mtr-packet needs raw sockets. Debian's mtr-tiny installs it with cap_net_raw; otherwise grant
  it with: setcap cap_net_raw+ep /usr/bin/mtr-packet. lg-probe too: ./scripts/setup installs it
  with cap_net_raw.
`;

/** `lg trace`: a local, mtr-compatible trace. */
export function register(command: Command): void {
  command
    .description(
      "Trace the route to TARGET from this machine, like mtr, with mtr's flags and output formats.",
    )
    .argument("<target>", "IP address or hostname to trace")
    .option("-c, --report-cycles <COUNT>", "cycles to run: probes sent to each hop (default: 10)")
    .option(
      "-i, --interval <SECONDS>",
      "seconds per cycle; each cycle's probes are spread over it (default: 1)",
    )
    .option(
      "-s, --psize <BYTES>",
      "probe size in bytes, IP and transport headers included, 28-9000 (default: 64)",
    )
    .option("-f, --first-ttl <N>", "TTL to start at (default: 1)")
    .option("-m, --max-ttl <N>", "highest TTL probed (default: 30)")
    .option("-U, --max-unknown <N>", "stop a cycle after this many silent hops in a row (default: 12)")
    .option(
      "-Z, --timeout <SECONDS>",
      "a probe unanswered this long is lost; later replies are discarded (default: 10)",
    )
    .option(
      "-G, --gracetime <SECONDS>",
      "longest wait for answers after the last cycle; the trace ends sooner once nothing can change (default: 5)",
    )
    .option("-T, --tcp", "TCP SYN probes (to port 80 unless -P)")
    .option("-u, --udp", "UDP probes (destination port varies per probe unless -P)")
    .option("-P, --port <PORT>", "destination port for -T/-u")
    .option(
      "-L, --localport <PORT>",
      "source port for -u and -T, 1024-65535; pins the flow with -u -P or with -T (TCP and IPv6: lg-probe)",
    )
    .option("-a, --address <IP>", "source address to send from (an address of this host)")
    .option("-Q, --tos <N>", "IP type of service / traffic class byte, 0-255 (default: 0)")
    .option("-4", "use IPv4 only (for a hostname)")
    .option("-6", "use IPv6 only (for a hostname)")
    .option("-n, --no-dns", "show addresses, do not look up names")
    .option("-b, --show-ips", "show both names and addresses")
    .option("-e, --mpls", "show MPLS label stacks from ICMP extensions")
    .option("-r, --report", "print a report at the end (default when not on a terminal)")
    .option("-w, --report-wide", "report without cutting host names (implies -r)")
    .option("-j, --json", "print mtr-compatible JSON at the end")
    .option("-C, --csv", "print mtr-compatible CSV at the end")
    .option(
      "-o, --order <FIELDS>",
      'columns by mtr\'s letters: L loss, D drop, R rcv, S snt, N last, B best, A avg, W worst, V stdev, J jttr, M javg, X jmax, space; C (lg only): the 95% loss interval (default: "LS NABWVC"; -j, -C: "LS NABWV")',
    )
    .option("--jitter", `add the jitter columns (same as -o "${JITTER_COLUMNS}")`)
    .option("--ndjson", "stream events as JSON lines while tracing")
    .addOption(
      new Option(
        "--mda",
        "enumerate every ECMP next hop per hop: one flow per cycle (all but IPv4 UDP: lg-probe)",
      ),
    )
    .addOption(
      new Option(
        "--pin-flow",
        "keep one flow for every probe: ports (default 33434 <- 33433), ICMP flow id, IPv6 flow label (all but IPv4 UDP: lg-probe)",
      ),
    )
    .option(
      "--service-port <PORT>",
      "TCP port of the target's service: a silent end is asked there instead of 443 and 80 (ICMP traces)",
    )
    .option("--no-follow-ups", "do not ask a silent destination over TCP and UDP (mtr's behaviour)")
    .option(
      "--until-sure",
      "keep probing while the loss reading is inconclusive (at most 4 x -c cycles, +200 at most)",
    )
    .option(
      "--record-route",
      "IPv4: after the trace, echo probes with the Record Route option show hints of the way back (lg-probe)",
    )
    .option(
      "--geo",
      "print each hop's city and country (LG_GEO_PREFIXES, then the offline IP database), checked against this machine's round-trip times when LG_LOCATION says where it is",
    )
    .showHelpAfterError(false)
    .addHelpText("after", HELP_AFTER)
    .action(async (target: string, raw: Record<string, unknown>) => {
      const flags = { ...raw, inet: raw["4"] === true, inet6: raw["6"] === true } as unknown as TraceFlags;
      const { runTrace } = await import("./trace-run");
      await runTrace(target, flags);
    });
}
