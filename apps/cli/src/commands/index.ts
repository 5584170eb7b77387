import type { Command } from "commander";

/** A command's module: it adds arguments, options, help and the action to the command main made. */
export interface CommandModule {
  register(command: Command): void;
}

/**
 * One subcommand of `lg`: what the top-level help lists (its name, argument term and summary,
 * checked against the module by commands/index.test.ts) and how to load the module. Only the
 * command being run is loaded, so `lg --version` loads none and `lg trace` none of the others.
 */
export interface CommandEntry {
  name: string;
  /** What follows the name in `lg --help`, as commander prints it (e.g. "[options] <target>"). */
  args: string;
  summary: string;
  /**
   * Runs until stopped and logs (coordinator, agent, up, demo): its stack traces should name the
   * TypeScript sources, so the bundle's source maps are read for the chunks it loads. Other
   * commands start without them (they cost start-up time and memory; a failure they expect is one
   * line without a stack; NODE_OPTIONS=--enable-source-maps turns them on for every command).
   */
  service?: true;
  load(): Promise<CommandModule>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: "coordinator",
    args: "",
    summary:
      "run the coordinator API (env: HOST, PORT, NATS_URL (required), NATS_CREDS, LG_NATS_SIGNING_KEY, DATABASE_URL, LG_DATA_DIR, LG_ALLOW_TARGETS, LOG_LEVEL)",
    service: true,
    load: () => import("./coordinator"),
  },
  {
    name: "agent",
    args: "[options]",
    summary: "run a probe agent: takes trace jobs over NATS, runs them with mtr-packet, reports results",
    service: true,
    load: () => import("./agent"),
  },
  {
    name: "up",
    args: "",
    summary:
      "run a single-node looking-glass: NATS (a child on a free port unless NATS_URL), PGlite unless DATABASE_URL, the coordinator and one local agent; Ctrl-C stops all",
    service: true,
    load: () => import("./up"),
  },
  {
    name: "trace",
    args: "[options] <target>",
    summary: "trace the route to a host from this machine, like mtr",
    load: () => import("./trace"),
  },
  {
    name: "measure",
    args: "[options] <target>",
    summary: "trace a target from several PoPs through the coordinator (LG_API_URL, LG_API_KEY)",
    load: () => import("./measure"),
  },
  {
    name: "path",
    args: "[options] <a> <b>",
    summary:
      "trace a -> b and b -> a at the same time and compare them (a: an agent; b: an agent, or a host for the forward direction only)",
    load: () => import("./path"),
  },
  {
    name: "join",
    args: "<url>",
    summary:
      "join a reverse-test session as the customer: registers with the looking-glass, lets it trace to and from this machine, and prints each leg's verdict",
    load: () => import("./join"),
  },
  {
    name: "demo",
    args: "",
    summary:
      "lg up plus the reference lab internet: agents inside the lab's PoPs (fra, sin, ams, nyc), VM and customer host, the lab ranges allow-listed; Ctrl-C stops all and removes the lab",
    service: true,
    load: () => import("./demo"),
  },
  {
    name: "lab",
    args: "",
    summary: "build, inspect and use the reference lab internet (network namespaces; needs root)",
    load: () => import("./lab"),
  },
  {
    name: "keys",
    args: "",
    summary: "operator API keys (env: DATABASE_URL or LG_DATA_DIR, as the coordinator)",
    load: () => import("./keys"),
  },
  {
    name: "monitor",
    args: "",
    summary:
      "scheduled measurements and path tests with alerts (LG_API_URL, LG_API_KEY with the monitors scope)",
    load: () => import("./monitor"),
  },
];
