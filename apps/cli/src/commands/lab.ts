import { spawnSync } from "node:child_process";
import {
  applyLinkLoss,
  cleanupStaleLabs,
  describeReferenceLab,
  type ExpectedHop,
  type LabSummary,
  listLabs,
  startReferenceLab,
  THE_LAB_PREFIX,
  teardownLab,
} from "@lg/netlab";
import type { Command } from "commander";
import { CliError } from "../errors";
import { numberOption } from "../options";

const PREFIX_HELP = `lab name prefix (default "${THE_LAB_PREFIX}", the lab of lg lab up)`;

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new CliError(`lg lab ${what} manages network namespaces and needs root`);
}

function findLab(prefix: string): LabSummary | undefined {
  return listLabs().find((l) => l.prefix === prefix);
}

function hopText(hop: ExpectedHop): string {
  if (hop === null) return "*";
  return Array.isArray(hop) ? hop.join("|") : hop;
}

/** The node table and scenario list of a reference lab, as printed by up and status. */
export function describeLab(prefix: string, slot: number | undefined): string {
  const info = describeReferenceLab(prefix, slot);
  const lines: string[] = [];
  if (info.hostAddress.v4) {
    lines.push(
      `host address (root namespace): ${info.hostAddress.v4}${info.hostAddress.v6 ? `, ${info.hostAddress.v6}` : ""}`,
    );
  }
  lines.push("", "nodes:");
  for (const [name, node] of Object.entries(info.nodes)) {
    const planned = info.plan.nodes.get(name);
    const v4 = info.addr(name, 4);
    const v6 = planned?.interfaces.some((i) => i.v6) ? info.addr(name, 6) : "";
    const region = node.region ? ` [${node.region}]` : "";
    lines.push(
      `  ${name.padEnd(7)} ${node.role.padEnd(9)} ${v4.padEnd(13)} ${v6.padEnd(15)} ${node.description}${region}`,
    );
  }
  lines.push("", "scenarios (from -> target: expected hops per TTL, * = silent):");
  for (const [name, s] of Object.entries(info.scenarios)) {
    lines.push(
      `  ${name.padEnd(9)} ${s.from} -> ${s.target}${s.tcpPort ? ` (tcp ${s.tcpPort})` : ""}: ${s.expectedHops.map(hopText).join(" ")}`,
    );
    lines.push(`            ${s.description}`);
  }
  lines.push("", "pairs (path tests between two agents: a -> b, both directions):");
  for (const [name, p] of Object.entries(info.pairs)) {
    lines.push(`  ${name.padEnd(11)} ${p.a} -> ${p.b} (IPv${p.family}): ${p.description}`);
  }
  const losses = info.defaultLosses.map((l) => `${l.from} -> ${l.to} ${l.probability * 100}%`).join(", ");
  lines.push(
    "",
    `directed loss in force at start: ${losses}`,
    "switch a stretch on or off: lg lab loss fwdb enyc 0.25   (0 clears; bothloss needs it on)",
    `run a command in a node: lg lab exec fra -- mtr -n -r -c 10 ${info.scenarios.loss.target}`,
  );
  return lines.join("\n");
}

/** `lg lab up|down|status|exec`: the reference lab by hand. */
export function register(lab: Command): void {
  lab.addHelpText(
    "after",
    `
The reference lab is a small internet in network namespaces in 198.18.0.0/15 and 2001:2::/48:
PoPs fra and sin (and ams, nyc in the two-way block), a neutral VM host vm, a customer host cust behind the NAT router nat, core
routers, and one target per impairment (throttling, loss, filtered ICMP, routing loop, black
hole, latency step, ECMP, asymmetric return path), and routers that answer from the incoming
interface or a loopback with a switchable directed loss between ams and nyc.
packages/netlab/README.md has the drawing.

Examples:
  lg lab up                                   build it and leave it up
  lg lab exec fra -- mtr -n -r -c 10 198.18.32.2
  lg lab loss fwdb enyc 0.25                  fwdb drops 25% of what it sends towards enyc (0: stop)
  lg lab status                               what is up, and leftovers of crashed runs
  lg lab down                                 remove it`,
  );

  lab
    .command("up")
    .description("build the reference lab and leave it up; prints its nodes, addresses and scenarios")
    .option("--prefix <prefix>", PREFIX_HELP, THE_LAB_PREFIX)
    .option("--no-host", "no link from the root namespace into the lab")
    .action(async (opts: { prefix: string; host: boolean }) => {
      requireRoot("up");
      await cleanupStaleLabs();
      if (findLab(opts.prefix)) {
        throw new CliError(
          `lab "${opts.prefix}" is already up (lg lab status shows it, lg lab down removes it)`,
        );
      }
      const started = performance.now();
      let built: Awaited<ReturnType<typeof startReferenceLab>>;
      try {
        built = await startReferenceLab({ prefix: opts.prefix, withHost: opts.host, persistent: true });
      } catch (err) {
        throw new CliError(`cannot build the lab: ${(err as Error).message.split("\n")[0]}`);
      }
      const ms = Math.round(performance.now() - started);
      const slot = findLab(opts.prefix)?.slot;
      process.stdout.write(
        `lab "${built.prefix}" is up (${built.plan.nodes.size} namespaces, built in ${ms} ms)\n`,
      );
      process.stdout.write(`${describeLab(built.prefix, slot)}\n`);
    });

  lab
    .command("down")
    .description("tear the lab down: its processes, namespaces, host link and routes")
    .option("--prefix <prefix>", PREFIX_HELP, THE_LAB_PREFIX)
    .action((opts: { prefix: string }) => {
      requireRoot("down");
      const started = performance.now();
      if (!teardownLab(opts.prefix)) throw new CliError(`no lab "${opts.prefix}" is up`);
      process.stdout.write(`lab "${opts.prefix}" is down (${Math.round(performance.now() - started)} ms)\n`);
    });

  lab
    .command("status")
    .description("list labs that are up, and remove leftovers of crashed runs")
    .option("--json", "machine-readable list")
    .option("--keep-leftovers", "list leftovers of crashed runs instead of removing them")
    .action(async (opts: { json?: boolean; keepLeftovers?: boolean }) => {
      requireRoot("status");
      const before = listLabs();
      const removed = opts.keepLeftovers ? [] : await cleanupStaleLabs();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ labs: listLabs(), removedLeftovers: removed }, null, 2)}\n`);
        return;
      }
      const labs = listLabs();
      if (labs.length === 0) process.stdout.write("no lab is up\n");
      for (const l of labs) {
        const owner = l.persistent
          ? "left up by lg lab up"
          : l.alive
            ? `owned by pid ${l.pid}`
            : `leftover (pid ${l.pid} is gone)`;
        process.stdout.write(
          `${l.prefix}  ${l.namespaces.length} namespaces  since ${l.createdAt}  ${owner}\n`,
        );
      }
      for (const prefix of removed) {
        const gone = before.find((l) => l.prefix === prefix);
        process.stdout.write(
          `removed leftover ${prefix}${gone ? ` (${gone.namespaces.length} namespaces)` : ""}\n`,
        );
      }
      const theLab = labs.find((l) => l.prefix === THE_LAB_PREFIX);
      if (theLab) process.stdout.write(`\n${describeLab(theLab.prefix, theLab.slot)}\n`);
    });

  lab
    .command("loss")
    .description("make a node drop a fraction of what it sends towards a neighbour (0 stops it)")
    .argument("<node>", "the node that drops (e.g. fwdb)")
    .argument("<toward>", "the neighbour the dropped packets were going to (e.g. enyc)")
    .argument("<probability>", "fraction dropped, 0-1 (0 clears)")
    .option("--prefix <prefix>", PREFIX_HELP, THE_LAB_PREFIX)
    .addHelpText(
      "after",
      "\nExamples:\n  lg lab loss fwdb enyc 0.25    both directions of ams <-> nyc lose (pair bothloss)\n  lg lab loss reta eams 0       no loss between ams and nyc at all",
    )
    .action(async (node: string, toward: string, probability: string, opts: { prefix: string }) => {
      requireRoot("loss");
      const p = numberOption("probability (0 to 1)", probability, { min: 0, max: 1 }) ?? 0;
      const found = findLab(opts.prefix);
      if (!found) throw new CliError(`no lab "${opts.prefix}" is up (start it with lg lab up)`);
      const { plan } = describeReferenceLab(opts.prefix, found.slot);
      try {
        await applyLinkLoss(plan, node, toward, p);
      } catch (err) {
        throw new CliError((err as Error).message.split("\n")[0] ?? "cannot set the loss");
      }
      process.stdout.write(
        p > 0
          ? `${node} now drops ${p * 100}% of what it sends towards ${toward}\n`
          : `${node} no longer drops what it sends towards ${toward}\n`,
      );
    });

  lab
    .command("exec")
    .description("run a command inside a lab node and pass its exit code on")
    .argument("<node>", "node name (fra, sin, vm, cust, nat, core1, ...)")
    .argument("<command...>", "the command and its arguments (after --)")
    .option("--prefix <prefix>", PREFIX_HELP, THE_LAB_PREFIX)
    .addHelpText("after", "\nExample:\n  lg lab exec fra -- mtr -n -r -c 10 -i 0.1 198.18.9.2")
    .action((node: string, command: string[], opts: { prefix: string }) => {
      requireRoot("exec");
      const found = findLab(opts.prefix);
      if (!found) throw new CliError(`no lab "${opts.prefix}" is up (start it with lg lab up)`);
      const ns = `${opts.prefix}-${node}`;
      if (!found.namespaces.includes(ns)) {
        const nodes = found.namespaces.map((n) => n.slice(opts.prefix.length + 1)).join(", ");
        throw new CliError(`no node "${node}" in lab "${opts.prefix}" (nodes: ${nodes})`);
      }
      const r = spawnSync("ip", ["netns", "exec", ns, ...command], { stdio: "inherit" });
      if (r.error) throw new CliError(`cannot run ${command[0]}: ${r.error.message}`);
      if (r.status === null) {
        throw new CliError(`${command[0]} was killed by ${r.signal ?? "a signal"}`, 128 + 9);
      }
      if (r.status !== 0) process.exitCode = r.status;
    });
}
