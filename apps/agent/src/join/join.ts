import { JoinGrant, parseAllowList, ReverseSessionView } from "@lg/protocol";
import { wsconnect } from "@nats-io/nats-core";
import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { type RunningAgent, runAgent } from "../agent";
import type { AgentConfig } from "../config";
import { createLogger, type Logger } from "../logger";

/** The join agent could not start or lost its session; the message is one line for the customer. */
export class JoinError extends Error {
  override name = "JoinError";
}

export interface JoinOptions {
  /** Where progress lines for the customer go (default: stderr). */
  say?: (line: string) => void;
  logLevel?: string;
  logger?: Logger;
  /** How often the session's state is read; default 2 s. */
  pollMs?: number;
  /** Stop early (Ctrl-C); the agent leaves cleanly. */
  signal?: AbortSignal;
}

export interface JoinOutcome {
  session: ReverseSessionView;
}

/**
 * What the customer is shown at the end: one line per leg, `a ⇄ b: ` and the comparison's verdict
 * and summary, or the forward trace's verdict (its status without one) when there is no comparison.
 *
 * @example
 * legVerdictLines(session) // ["join-abc ⇄ srv: symmetric; both directions cross the same routers"]
 */
export function legVerdictLines(session: ReverseSessionView): string[] {
  return session.legs.map((leg) => {
    const b = typeof leg.b === "string" ? leg.b : leg.b.host;
    const verdict = leg.comparison
      ? `${leg.comparison.verdict}; ${leg.comparison.summary}`
      : `forward ${leg.forward.diagnosis?.verdict ?? leg.forward.status}`;
    return `${leg.a} ⇄ ${b}: ${verdict}`;
  });
}

/**
 * Splits a join URL (`https://lg.example/api/v1/reverse-sessions/<id>/join?token=<t>`) into the
 * coordinator's base URL, the session id and the token.
 */
export function parseJoinUrl(joinUrl: string): { base: string; sessionId: string; token: string } {
  let url: URL;
  try {
    url = new URL(joinUrl);
  } catch {
    throw new JoinError(`'${joinUrl}' is not a URL; give the join URL the session shows`);
  }
  const m = /^(.*)\/api\/v1\/reverse-sessions\/([A-Za-z0-9_-]+)\/join$/.exec(url.pathname);
  const token = url.searchParams.get("token");
  if (!m || !token || !["http:", "https:"].includes(url.protocol)) {
    throw new JoinError(`'${joinUrl}' is not a join URL (…/api/v1/reverse-sessions/<id>/join?token=…)`);
  }
  return { base: `${url.origin}${m[1]}`, sessionId: m[2] as string, token };
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

function errorText(body: unknown, status: number): string {
  const e = (body as { error?: { message?: string } } | null)?.error;
  return e?.message ?? `HTTP ${status}`;
}

/** NATS over WebSocket; Node 20 has no global WebSocket, so the `ws` package provides it. */
function connectOverWebSocket(opts: ConnectionOptions): Promise<NatsConnection> {
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= WebSocket;
  return wsconnect(opts) as Promise<NatsConnection>;
}

/**
 * Runs the join agent of one reverse session: registers with the coordinator over HTTP(S) (which
 * learns the customer's public address from that request), connects to NATS over WebSocket through
 * the coordinator's own port with the session's credential, runs the jobs of the session, and
 * leaves when the session is done or expired. It dials out only.
 *
 * @example
 *   const { session } = await runJoin("https://lg.example/api/v1/reverse-sessions/abc/join?token=t");
 */
export async function runJoin(joinUrl: string, opts: JoinOptions = {}): Promise<JoinOutcome> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { base, sessionId, token } = parseJoinUrl(joinUrl);
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/reverse-sessions/${sessionId}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
  } catch (err) {
    throw new JoinError(`cannot reach the looking-glass at ${base} (${(err as Error).message})`);
  }
  const body = await readJson(res);
  if (!res.ok) throw new JoinError(`the looking-glass refused to join: ${errorText(body, res.status)}`);
  const grant = JoinGrant.parse(body);
  say(`joined session ${sessionId}; the looking-glass sees you as ${grant.publicAddress}`);

  const config: AgentConfig = {
    natsUrl: grant.natsWsUrl,
    id: grant.agentId,
    region: grant.region,
    role: "join",
    publicAddresses: [grant.publicAddress],
    maxTraces: 4,
    allowTargets: grant.allowTargets,
    allowList: parseAllowList(grant.allowTargets),
    drainTimeoutSec: 5,
    logLevel: (opts.logLevel ?? "warn") as AgentConfig["logLevel"],
  };
  const logger = opts.logger ?? createLogger(config.logLevel, { agent: config.id });
  const withToken = (o: ConnectionOptions): ConnectionOptions => ({
    ...o,
    token: grant.token,
    // The session ends at its expiry: no point in reconnecting forever.
    maxReconnectAttempts: 10,
  });
  let agent: RunningAgent;
  try {
    agent = await runAgent(config, {
      logger,
      connect: (o) => connectOverWebSocket(withToken(o)),
      // A cut-off session cannot deliver anything more: do not wait long for it on the way out.
      outboxFlushTimeoutMs: 3_000,
    });
  } catch (err) {
    throw new JoinError(`cannot connect to the looking-glass's message bus: ${(err as Error).message}`);
  }
  say("connected; the looking-glass is tracing between you and the server…");

  const pollMs = opts.pollMs ?? 2_000;
  let last: ReverseSessionView | undefined;
  let lastStatus = "";
  try {
    for (;;) {
      if (opts.signal?.aborted) break;
      const r = await fetch(`${base}/api/v1/reverse-sessions/${sessionId}`).catch(() => undefined);
      if (r?.ok) {
        const parsed = ReverseSessionView.safeParse(await readJson(r));
        if (parsed.success) {
          last = parsed.data;
          if (last.status !== lastStatus) {
            lastStatus = last.status;
            if (last.status === "running") say(`tracing ${last.legs.length} leg(s)…`);
          }
          if (last.status === "done" || last.status === "expired") break;
        }
      }
      const closed = await Promise.race([
        agent.closed.then((e) => e ?? new Error("closed")),
        new Promise<undefined>((r2) => setTimeout(() => r2(undefined), pollMs)),
      ]);
      if (closed) {
        // Cut off (the session expired, or the coordinator went away): read the state once more.
        const r3 = await fetch(`${base}/api/v1/reverse-sessions/${sessionId}`).catch(() => undefined);
        const parsed = r3?.ok ? ReverseSessionView.safeParse(await readJson(r3)) : undefined;
        if (parsed?.success) last = parsed.data;
        break;
      }
    }
  } finally {
    // An expired or abandoned session has nothing left to wait for.
    if (last?.status !== "done") agent.cancelAll();
    await agent.shutdown();
  }
  if (!last) throw new JoinError("the session's state could not be read");
  say(`session ${last.status}`);
  return { session: last };
}
