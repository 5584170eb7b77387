import { ConfigError, parseAgentConfig, runAgent } from "@lg/agent";
import { type Command, Option } from "commander";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";

/** Each flag sets the environment variable of the same meaning; a flag wins over the variable. */
const FLAGS: { flag: string; env: string; help: string; choices?: string[] }[] = [
  { flag: "--nats-url <urls>", env: "NATS_URL", help: "NATS server(s), comma-separated (required)" },
  { flag: "--nats-creds <file>", env: "NATS_CREDS", help: "NATS credentials file (user JWT and seed)" },
  {
    flag: "--id <id>",
    env: "LG_AGENT_ID",
    help: "agent id, letters, digits, '-' and '_' (default: hostname)",
  },
  { flag: "--region <name>", env: "LG_REGION", help: "region name (default: local)" },
  {
    flag: "--role <role>",
    env: "LG_ROLE",
    help: "pop or neutral (default: pop); taken as given only without NATS auth: with --nats-creds the role in the credentials decides",
    choices: ["pop", "neutral"],
  },
  {
    flag: "--public-addrs <list>",
    env: "LG_PUBLIC_ADDRS",
    help: "public addresses, comma-separated (default: this host's non-loopback addresses)",
  },
  {
    flag: "--location <lat,lon>",
    env: "LG_LOCATION",
    help: "where this PoP is, decimal degrees (e.g. 50.11,8.68): shown with the PoP, and its round-trip times bound where its hops can be",
  },
  { flag: "--city <name>", env: "LG_CITY", help: "the city of --location, for people (e.g. Frankfurt)" },
  {
    flag: "--max-traces <n>",
    env: "LG_MAX_TRACES",
    help: "traces run at once before jobs are refused as busy (default: 200)",
  },
  {
    flag: "--allow-targets <cidrs>",
    env: "LG_ALLOW_TARGETS",
    help: "CIDRs of special ranges (private, loopback, lab...) this agent may trace, comma-separated",
  },
  {
    flag: "--dns-servers <list>",
    env: "LG_DNS_SERVERS",
    help: "DNS servers for target names, ip[:port], comma-separated (default: /etc/resolv.conf's)",
  },
  {
    flag: "--data-dir <dir>",
    env: "LG_DATA_DIR",
    help: "folder for results not yet acknowledged, so they survive a restart (default: memory only)",
  },
  {
    flag: "--probe-helper <path>",
    env: "LG_PROBE_HELPER",
    help: "lg-probe, for flow pinning and --mda beyond IPv4 UDP (default: /usr/local/libexec/lg/lg-probe, then the checkout's build)",
  },
  {
    flag: "--drain-timeout <seconds>",
    env: "LG_DRAIN_TIMEOUT",
    help: "on SIGTERM, seconds to let running traces finish before cancelling them (default: 120)",
  },
  {
    flag: "--log-level <level>",
    env: "LOG_LEVEL",
    help: "fatal, error, warn, info, debug, trace or silent (default: info)",
  },
];

const optionKey = (flag: string) =>
  (flag.split(" ")[0] ?? "").replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** `lg agent`: a probe agent that takes trace jobs over NATS. */
export function register(agent: Command): void {
  const command = agent.addHelpText(
    "after",
    `
Every flag can be given as the environment variable named in brackets; a flag wins.
The agent announces itself on lg.presence.<id> and heartbeats every 5 s; it answers jobs on
lg.agent.<id>.job at once (accepted, or refused as busy, unsupported, target-refused, invalid or
draining). SIGTERM or Ctrl-C: stop taking jobs, let running traces finish, publish their results,
exit. A second signal cancels the running traces (their partial results are still published).

Targets in private, loopback, link-local and other special ranges are refused unless
--allow-targets names them. A job carries the address the coordinator checked; the agent probes
exactly it, after checking it against its own policy and its own resolution of the name (a name
that resolves elsewhere here is refused as target-refused).

Example:
  NATS_URL=nats://127.0.0.1:4222 lg agent --id fra-1 --region eu --allow-targets 198.18.0.0/15
`,
  );
  for (const { flag, env, help, choices } of FLAGS) {
    const option = new Option(flag, `${help} [${env}]`);
    command.addOption(choices ? option.choices(choices) : option);
  }
  command.action(async (opts: Record<string, string | undefined>) => {
    // The agent's variables are read by its own schema; a flag wins over its variable.
    const source = { ...loadCliConfig().environment };
    for (const { flag, env } of FLAGS) {
      const value = opts[optionKey(flag)];
      if (value !== undefined) source[env] = value;
    }
    let config: ReturnType<typeof parseAgentConfig>;
    try {
      config = parseAgentConfig(source);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, USAGE);
      throw err;
    }
    let agent: Awaited<ReturnType<typeof runAgent>>;
    try {
      agent = await runAgent(config);
    } catch (err) {
      throw new CliError(`the agent could not start: ${(err as Error).message}`);
    }
    const lost = await new Promise<Error | undefined | "stopped">((resolve) => {
      let signals = 0;
      const onSignal = () => {
        signals++;
        if (signals === 1)
          agent.shutdown().then(
            () => resolve("stopped"),
            () => resolve("stopped"),
          );
        else agent.cancelAll();
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      // After a signal the connection closes as part of the shutdown; before one, it is a failure.
      void agent.closed.then((err) => {
        if (signals === 0) resolve(err);
      });
    });
    if (lost !== "stopped") {
      throw new CliError(`the NATS connection closed${lost ? `: ${lost.message}` : ""}`);
    }
    process.exit(0);
  });
}
