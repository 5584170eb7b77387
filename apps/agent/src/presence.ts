import {
  type AgentCounters,
  type AgentDescriptor,
  type FlowControl,
  HEARTBEAT_INTERVAL_MS,
  PROTOCOL_VERSION,
  type PresenceMessage,
} from "@lg/protocol";
import { detectPublicAddresses, type InterfaceTable } from "./addresses";
import type { AgentConfig } from "./config";
import { agentCapabilities } from "./support";
import { AGENT_VERSION } from "./version";

/**
 * What the agent says about itself in every presence message. It can trace IPv6 when a configured
 * or detected address is IPv6; it holds every kind of flow when lg-probe answered
 * (`detectFlowControl`); the role may later be replaced by the one its credentials name.
 */
export function agentDescriptor(
  config: Pick<AgentConfig, "id" | "region" | "role" | "publicAddresses" | "maxTraces" | "location">,
  interfaces?: InterfaceTable,
  flowControl: FlowControl = "udp4",
): AgentDescriptor {
  const hasIpv6 = [...config.publicAddresses, ...detectPublicAddresses(interfaces)].some((a) =>
    a.includes(":"),
  );
  return {
    id: config.id,
    region: config.region,
    role: config.role,
    version: AGENT_VERSION,
    addresses: config.publicAddresses,
    capabilities: agentCapabilities({ maxTraces: config.maxTraces, ipv6: hasIpv6, mda: true, flowControl }),
    ...(config.location ? { location: config.location } : {}),
  };
}

/** The agent's state as presence reports it. */
export interface PresenceState {
  descriptor: AgentDescriptor;
  /** Traces running now. */
  running: number;
  counters: AgentCounters;
  /** The user JWT of the agent's credentials (operator mode), for the coordinator to read the role in. */
  userJwt?: string;
}

/** One presence message; the counters are copied, so later counting does not change it. */
export function presenceMessage(
  kind: PresenceMessage["kind"],
  state: PresenceState,
  sentAt: Date,
): PresenceMessage {
  return {
    v: PROTOCOL_VERSION,
    kind,
    agent: state.descriptor,
    running: state.running,
    counters: { ...state.counters },
    sentAt: sentAt.toISOString(),
    ...(state.userJwt ? { userJwt: state.userJwt } : {}),
  };
}

export interface PresenceOptions {
  /** The agent's state at the moment of sending. */
  state: () => PresenceState;
  /** Shutting down: heartbeats become `leaving`. */
  draining: () => boolean;
  /** Sends a message on `lg.presence.<id>` (the agent skips it while disconnected). */
  send: (message: PresenceMessage) => void;
  /** Default HEARTBEAT_INTERVAL_MS (5 s). */
  heartbeatIntervalMs?: number;
  now?: () => Date;
}

/**
 * The agent's presence on `lg.presence.<id>`: `announce` once per process (the coordinator reads it
 * as "a fresh process running nothing"), a heartbeat every interval — `leaving` instead while
 * draining — and a final `leaving`.
 *
 * @example
 * const presence = new Presence({ state, draining: () => draining, send });
 * presence.announce();
 * presence.startHeartbeat();
 */
export class Presence {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: PresenceOptions) {}

  announce(): void {
    this.send("announce");
  }

  /** A heartbeat, or `leaving` while draining (also right after a reconnect: never `announce`). */
  beat(): void {
    this.send(this.opts.draining() ? "leaving" : "heartbeat");
  }

  leaving(): void {
    this.send("leaving");
  }

  /** Beats every interval until `stopHeartbeat()`. */
  startHeartbeat(): void {
    this.stopHeartbeat();
    this.timer = setInterval(() => this.beat(), this.opts.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS);
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(kind: PresenceMessage["kind"]): void {
    this.opts.send(presenceMessage(kind, this.opts.state(), (this.opts.now ?? (() => new Date()))()));
  }
}
