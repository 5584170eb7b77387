import type { NatsConnection, Subscription } from "@nats-io/transport-node";

/** A live message for one trace: an agent's progress or a replica's stored change. */
export interface LiveItem {
  seq: number;
  kind: "progress" | "trace";
  /** The trace id in the subject. */
  traceId: string;
  /** Progress only: the agent id in the subject, i.e. who published it (NATS permits an agent only its own). */
  publisher?: string;
  data: Uint8Array;
}

/**
 * The agent and trace ids of a progress subject (`lg.result.<agentId>.progress.<traceId>`), or
 * undefined for any other subject.
 */
export function progressSubject(subject: string): { agentId: string; traceId: string } | undefined {
  const parts = subject.split(".");
  if (parts.length !== 5 || parts[0] !== "lg" || parts[1] !== "result" || parts[3] !== "progress") return;
  return { agentId: parts[2] as string, traceId: parts[4] as string };
}

type Listener = (item: LiveItem) => void;

/** How long recent messages are kept so a new watcher can replay what arrived while it read its snapshot. */
const KEEP_MS = 10_000;

/**
 * One pair of NATS subscriptions per coordinator (all progress, all stored changes) shared by
 * every live watcher of this replica, instead of two subscriptions and a flush per watcher.
 * Messages are routed by the trace id in their subject and parsed only when someone watches.
 * A short backlog lets a watcher that registers after reading its snapshot replay what arrived
 * in between, so nothing is missed.
 */
export class LiveHub {
  private seq = 0;
  private readonly backlog: { at: number; item: LiveItem }[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subs: Subscription[];

  constructor(nc: NatsConnection) {
    const route =
      (kind: LiveItem["kind"]) => (err: Error | null, msg: { subject: string; data: Uint8Array }) => {
        if (err) return;
        const traceId = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
        const publisher = kind === "progress" ? progressSubject(msg.subject)?.agentId : undefined;
        const item: LiveItem = { seq: ++this.seq, kind, traceId, publisher, data: msg.data };
        const now = Date.now();
        this.backlog.push({ at: now, item });
        while (this.backlog.length > 0 && (this.backlog[0]?.at ?? now) < now - KEEP_MS) this.backlog.shift();
        for (const l of this.listeners.get(traceId) ?? []) l(item);
      };
    this.subs = [
      nc.subscribe("lg.result.*.progress.*", { callback: route("progress") }),
      nc.subscribe("lg.live.trace.*", { callback: route("trace") }),
    ];
  }

  /** The sequence number of the last message seen; pass it to `watch` to replay from there. */
  position(): number {
    return this.seq;
  }

  /**
   * Delivers every message for these traces after `since` (first the backlog, then live ones)
   * to `listener`; returns the function that stops it.
   */
  watch(traceIds: string[], since: number, listener: Listener): () => void {
    const wanted = new Set(traceIds);
    for (const { item } of this.backlog) if (item.seq > since && wanted.has(item.traceId)) listener(item);
    for (const id of wanted) {
      const set = this.listeners.get(id) ?? new Set<Listener>();
      this.listeners.set(id, set);
      set.add(listener);
    }
    return () => {
      for (const id of wanted) {
        const set = this.listeners.get(id);
        set?.delete(listener);
        if (set?.size === 0) this.listeners.delete(id);
      }
    };
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
