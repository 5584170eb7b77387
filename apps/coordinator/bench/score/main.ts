/**
 * The reading scoreboard (`pnpm score`): builds the reference lab with the real stack on top
 * (nats-server, coordinator, real agents in fra, sin, vm, ams, nyc), then reads every lab pair with a
 * path test and every single-trace scenario with a measurement, N times each, and grades each
 * reading against the lab's ground truth (readings.ts, grade.ts). Tables per kind on stdout (or
 * JSON); progress on stderr; exit 1 when any reading was wrong. See docs/scoreboard.md.
 */
import { parseArgs } from "node:util";
import type { PairName, PairScenario, ReferenceLab } from "@lg/netlab";
import { DEFAULT_LOSSES } from "@lg/netlab";
import {
  MeasurementAccepted,
  type MeasurementRequestInput,
  MeasurementView,
  type PathTestRequestInput,
  PathTestView,
  type TraceView,
} from "@lg/protocol";
import { type LabStack, startLabStack } from "../../test/lab-stack";
import { sleep } from "../kit";
import { gradePathTest } from "./grade";
import {
  gradeTrace,
  pairOutcome,
  TRACE_SCENARIOS,
  type TraceScenarioName,
  traceExpectation,
  traceRequest,
} from "./readings";
import {
  markdownTable,
  PAIR_COLUMNS,
  type PairRun,
  pairRows,
  TRACE_COLUMNS,
  type TraceMode,
  type TraceRun,
  traceRows,
} from "./tables";

const PAIRS = [
  "asym",
  "asym6",
  "retloss",
  "fwdloss",
  "bothloss",
  "conventions",
] as const satisfies PairName[];

/**
 * Longest a reading may take before it counts as wrong: a path test at 20 probes takes ~10 s on the
 * idle lab; --until-sure may run 4x the cycles, alias traces follow, and two cores are shared.
 */
const READING_TIMEOUT_MS = 180_000;
/** How often a running reading is polled: the API is local, and a reading takes seconds. */
const POLL_MS = 250;

const HELP = `pnpm score [options]: the reading scoreboard (needs root: it builds the reference lab)

Builds the reference lab (packages/netlab) and the real stack on it, then reads every lab pair with
a path test and every single-trace scenario with a measurement (with and without --until-sure),
N times each, and grades each reading against the lab's ground truth. Tables on stdout, progress
on stderr. Exit 1 when any reading was wrong, 0 otherwise (undecided readings are not wrong).

  --runs N          readings per scenario and mode (default 3; the issues' acceptance uses 10)
  --count N         probes per hop of each single trace (default 20)
  --pair-count N    probes per hop of each path test's two traces (default 40: clearing a direction
                    rests on the traces' own hops as well as on the alias traces)
  --interval S      seconds between cycles (default 0.1, the API's minimum)
  --only NAMES      comma-separated scenario names, or "pairs" / "traces" for a whole kind
                    pairs: ${PAIRS.join(", ")}
                    traces: ${TRACE_SCENARIOS.join(", ")}
                    ("asym" is both a pair and a single trace)
  --mode M          single traces: default, until-sure or both (default both)
  --json            one JSON document on stdout instead of the tables
  -h, --help        this text

Columns are explained in docs/scoreboard.md.`;

const fail = (message: string): never => {
  process.stderr.write(`pnpm score: ${message}\n`);
  process.exit(2);
};

function options() {
  const parsed = (() => {
    try {
      return parseArgs({
        args: process.argv.slice(2).filter((a) => a !== "--"),
        options: {
          runs: { type: "string", default: "3" },
          count: { type: "string", default: "20" },
          "pair-count": { type: "string", default: "40" },
          interval: { type: "string", default: "0.1" },
          only: { type: "string" },
          mode: { type: "string", default: "both" },
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      }).values;
    } catch (err) {
      return fail(`${(err as Error).message} (see --help)`);
    }
  })();
  if (parsed.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      fail(`--${name} takes a whole number from ${min} to ${max}`);
    return n;
  };
  const runs = int("runs", parsed.runs, 1, 1000);
  const count = int("count", parsed.count, 1, 300);
  const pairCount = int("pair-count", parsed["pair-count"], 1, 300);
  const interval = Number(parsed.interval);
  if (!(interval >= 0.1 && interval <= 60)) fail("--interval takes seconds from 0.1 to 60");
  const modes: TraceMode[] =
    parsed.mode === "both"
      ? ["default", "until-sure"]
      : parsed.mode === "default" || parsed.mode === "until-sure"
        ? [parsed.mode]
        : fail("--mode takes default, until-sure or both");
  const names = parsed.only?.split(",").map((n) => n.trim()) ?? ["pairs", "traces"];
  const known = new Set<string>(["pairs", "traces", ...PAIRS, ...TRACE_SCENARIOS]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) fail(`unknown scenario ${unknown.join(", ")} (see --help)`);
  const pairs = PAIRS.filter((p) => names.includes("pairs") || names.includes(p));
  const traces = TRACE_SCENARIOS.filter((t) => names.includes("traces") || names.includes(t));
  return { runs, count, pairCount, interval, modes, pairs, traces, json: parsed.json };
}

const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.status !== 202) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Polls a reading until `done` returns it, or throws after READING_TIMEOUT_MS. */
async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + READING_TIMEOUT_MS;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not finish in ${READING_TIMEOUT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
}

async function readPair(
  url: string,
  lab: ReferenceLab,
  s: PairScenario,
  probes: { count: number; interval: number },
): Promise<PathTestView> {
  await lab.setLosses(s.losses);
  const body: PathTestRequestInput = {
    a: s.a,
    b: s.b,
    count: probes.count,
    interval: probes.interval,
    ...(s.family === 6 ? { ipVersion: 6 as const } : {}),
  };
  const { id } = (await post(`${url}/api/v1/path-tests`, body)) as { id: string };
  return until(`path test ${s.name}`, async () => {
    const v = PathTestView.parse(await (await fetch(`${url}/api/v1/path-tests/${id}`)).json());
    return v.status === "done" ? v : undefined;
  });
}

async function readTrace(url: string, body: MeasurementRequestInput, name: string): Promise<TraceView> {
  const accepted = MeasurementAccepted.parse(await post(`${url}/api/v1/measurements`, body));
  const m = await until(`measurement of ${name}`, async () => {
    const v = MeasurementView.parse(await (await fetch(`${url}/api/v1/measurements/${accepted.id}`)).json());
    return v.status === "done" ? v : undefined;
  });
  // An until-sure row must have run until sure: a coordinator that dropped the flag is not graded as one.
  if (body.adaptive && m.options.adaptive !== true)
    throw new Error("the coordinator did not keep adaptive: true");
  const t = m.traces[0];
  if (!t) throw new Error(`measurement of ${name} has no trace`);
  return t;
}

async function main() {
  const opts = options();
  if (process.getuid?.() !== 0) {
    fail("needs root: it builds the reference lab in network namespaces (run it as root)");
  }
  const started = new Date();
  log(
    "building the reference lab and the stack (nats-server, coordinator, agents in fra, sin, vm, ams, nyc)",
  );
  let labStack: LabStack | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= labStack?.stop() ?? Promise.resolve();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130); // a second Ctrl-C: the exit hook still removes the lab
      log(`${signal}: tearing down the agents, the stack and the lab`);
      void stop().finally(() => process.exit(130));
    });
  }

  // After Ctrl-C the signal handler tears down and exits; readings cut short are not graded.
  const halt = () => new Promise<never>(() => {});
  const pairRuns: PairRun[] = [];
  const traceRuns: TraceRun[] = [];
  try {
    // Every target is the lab's own, read many times a minute: the per-target probe budget, which
    // protects third parties (tested in test/security), would turn readings into 429s, not grades.
    labStack = await startLabStack({ twoWay: true, env: { LG_TARGET_BUDGET: "0" } });
    const { lab, url } = labStack;
    log(`lab ${lab.prefix} up, coordinator at ${url}`);

    for (const name of opts.pairs) {
      const s = lab.pairs[name];
      for (let run = 1; run <= opts.runs; run++) {
        const graded = await readPair(url, lab, s, { ...opts, count: opts.pairCount }).then(
          (v) => {
            const g = gradePathTest(v, s);
            return { g, ...pairOutcome(g, s) };
          },
          (err: Error) => ({ g: undefined, outcome: "wrong" as const, why: err.message }),
        );
        if (stopping) return halt();
        const faultGraded = s.checks.includes("faultDirection");
        pairRuns.push({
          scenario: name,
          run,
          outcome: graded.outcome,
          routersRight: graded.g?.routersRight ?? false,
          faultRight: faultGraded ? (graded.g?.faultRight ?? false) : null,
          probes: graded.g?.probes ?? 0,
          why: graded.why,
          read: graded.g?.read ?? null,
        });
        log(
          `pair ${name} run ${run}/${opts.runs}: ${graded.outcome}${graded.why ? ` (${graded.why})` : ""}, fault read ${graded.g?.read.faultDirection ?? "-"}, ${graded.g?.probes ?? 0} probes`,
        );
      }
    }
    // The lab's own directed loss (reta -> eams) for the single traces: only randloss crosses it.
    await lab.setLosses(DEFAULT_LOSSES);

    // One measurement per scenario at a time: the scenarios' faults sit on separate branches of
    // the lab, but a trace's timing is read on two shared cores, so no reading competes with another.
    for (const name of opts.traces) {
      const s = lab.scenarios[name as TraceScenarioName];
      const expected = traceExpectation(name, s);
      for (const mode of opts.modes) {
        for (let run = 1; run <= opts.runs; run++) {
          const body = traceRequest(name, s, { ...opts, adaptive: mode === "until-sure" });
          const graded = await readTrace(url, body, name).then(
            (t) => {
              const g = gradeTrace(t, expected);
              const extra = t.adaptive?.extraCycles ?? 0;
              return extra > 0 ? { ...g, read: `${g.read} [until-sure: +${extra} cycles]` } : g;
            },
            (err: Error) => ({ outcome: "wrong" as const, read: "no reading", why: err.message, probes: 0 }),
          );
          if (stopping) return halt();
          traceRuns.push({ scenario: name, mode, run, ...graded });
          log(
            `trace ${name} (${mode}) run ${run}/${opts.runs}: ${graded.outcome} — ${graded.read}${graded.why ? ` (${graded.why})` : ""}, ${graded.probes} probes`,
          );
        }
      }
    }
  } catch (err) {
    if (stopping) return halt();
    log(`stopped: ${(err as Error).message}`);
    await stop();
    process.exit(2);
  }
  await stop();

  const wrong = [...pairRuns, ...traceRuns].filter((r) => r.outcome === "wrong").length;
  const command = `pnpm score ${process.argv
    .slice(2)
    .filter((a) => a !== "--")
    .join(" ")}`.trim();
  if (opts.json) {
    const doc = {
      date: started.toISOString(),
      command,
      options: opts,
      pairs: { columns: PAIR_COLUMNS, rows: pairRows(pairRuns), runs: pairRuns },
      traces: { columns: TRACE_COLUMNS, rows: traceRows(traceRuns), runs: traceRuns },
      wrong,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const out: string[] = [`${command}  (${started.toISOString().slice(0, 10)})`, ""];
    if (pairRuns.length > 0) {
      out.push(
        `Pairs: path tests through the real agents (count ${opts.pairCount}, interval ${opts.interval} s)`,
        "",
        markdownTable(PAIR_COLUMNS, pairRows(pairRuns)),
        "",
      );
    }
    if (traceRuns.length > 0) {
      out.push(
        `Single traces: one measurement from the scenario's PoP (count ${opts.count}, interval ${opts.interval} s)`,
        "",
        markdownTable(TRACE_COLUMNS, traceRows(traceRuns)),
        "",
      );
    }
    const notRight = [
      ...pairRuns
        .filter((r) => r.outcome !== "right")
        .map((r) => `- pair ${r.scenario} run ${r.run}: ${r.outcome}: ${r.why}`),
      ...traceRuns
        .filter((r) => r.outcome !== "right")
        .map((r) => `- ${r.scenario} (${r.mode}) run ${r.run}: ${r.outcome}: ${r.why} — read ${r.read}`),
    ];
    if (notRight.length > 0) out.push("Not right:", ...notRight, "");
    process.stdout.write(`${out.join("\n")}\n`);
  }
  process.exit(wrong > 0 ? 1 : 0);
}

main().catch((err: Error) => fail(err.message));
