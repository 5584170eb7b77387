import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { formatProbeCommand, parseReplyLine } from "./command";
import { Pacer } from "./pacer";
import type { PacketPort, ProbeHelperName, ProbeOutcome, ProbeSpec } from "./types";

/** Where lg-probe is installed by `./scripts/setup`. */
export const LG_PROBE_INSTALLED_PATH = "/usr/local/libexec/lg/lg-probe";

/** What to run when lg-probe is missing, in the words every refusal uses. */
export const INSTALL_LG_PROBE = `run ./scripts/setup (it builds lg-probe and installs it as ${LG_PROBE_INSTALLED_PATH}) or set LG_PROBE_HELPER to its path`;

/** What a pool needs to know about the helper it runs: its name, hard limits and defaults. */
export interface HelperProfile {
  name: ProbeHelperName;
  /** Probes in flight one process takes at most (the helper refuses more). */
  inFlightLimit: number;
  defaults: Required<
    Pick<
      HelperPoolOptions,
      "maxProcesses" | "maxInFlightPerProcess" | "maxTcpInFlightPerProcess" | "spreadThreshold"
    >
  >;
  /** The sentence for a helper that is not there (ENOENT). */
  missing: (command: string) => string;
}

/**
 * mtr-packet refuses more than 1,024 probes in flight; each TCP probe holds a socket and it aborts
 * past FD_SETSIZE. Every helper's raw socket receives every ICMP answer, so each extra helper costs
 * CPU on every answer: a new one starts only when every running one is nearly full (900).
 */
export const MTR_PACKET_PROFILE: HelperProfile = {
  name: "mtr-packet",
  inFlightLimit: 1024,
  defaults: {
    maxProcesses: 16,
    maxInFlightPerProcess: 1000,
    maxTcpInFlightPerProcess: 400,
    spreadThreshold: 900,
  },
  missing: (command) =>
    `${command} was not found: install mtr-packet (Debian/Ubuntu: apt-get install mtr-tiny)`,
};

/**
 * lg-probe takes 16,384 probes in flight per process and sends TCP SYN on its raw socket (no
 * socket per probe, so no TCP limit of its own): one process is normally enough, and another
 * starts only when it is nearly full, for the same reason as mtr-packet's.
 */
export const LG_PROBE_PROFILE: HelperProfile = {
  name: "lg-probe",
  inFlightLimit: 16_384,
  defaults: {
    maxProcesses: 4,
    maxInFlightPerProcess: 16_000,
    maxTcpInFlightPerProcess: 16_000,
    spreadThreshold: 14_400,
  },
  missing: (command) => `${command} was not found: ${INSTALL_LG_PROBE}`,
};

export interface HelperPoolOptions {
  /** The helper to run; default the profile's name from PATH (`mtr-packet`, `lg-probe`). */
  command?: string;
  /** Most helper processes to run at once (started only when needed). Default per helper (16, 4). */
  maxProcesses?: number;
  /** Probes in flight per process, at most the helper's own limit. Default 1,000 (mtr-packet) or 16,000 (lg-probe). */
  maxInFlightPerProcess?: number;
  /** TCP probes in flight per process. Default 400 for mtr-packet (a socket each); lg-probe: no limit of its own. */
  maxTcpInFlightPerProcess?: number;
  /**
   * Open another process once every running one has this many probes in flight. Every helper's
   * raw socket receives every ICMP answer, so each extra helper costs CPU on every answer: the pool
   * grows only when nearly full. Default 900 (mtr-packet), 14,400 (lg-probe).
   */
  spreadThreshold?: number;
  /** Wait before resending a probe the helper refused with probes-exhausted. Default 20 ms. */
  retryDelayMs?: number;
  /**
   * Pace of probes leaving the pool, and the burst allowed at once. Every helper's raw socket
   * sees every ICMP answer, so a burst of thousands of answers overflows their receive buffers
   * and shows as loss that is not the network's. Default 10,000/s, bursts of 100.
   */
  maxProbesPerSecond?: number;
  burst?: number;
  /** A pace shared with other pools (whose helpers' sockets see the same answers); overrides the two above. */
  pacer?: Pacer;
  /**
   * A probe that found no free slot for this long is given up with `probes-exhausted` (the
   * engine does not count it as sent) instead of leaving late. Default 1,000 ms.
   */
  maxQueueMs?: number;
}

/** Options of the mtr-packet pool (the names it always had). */
export type MtrPacketPortOptions = HelperPoolOptions;

interface Pending {
  token: number;
  probe: ProbeSpec;
  retries: number;
  queuedAt: number;
}

interface Helper {
  child: ChildProcessWithoutNullStreams;
  inFlight: Map<number, Pending>;
  tcpInFlight: number;
  nextLocalToken: number;
  outbox: string[];
  /** Caller tokens of the lines in `outbox`. */
  sentTokens: number[];
  flushQueued: boolean;
  stderr: string;
  alive: boolean;
}

const MAX_EXHAUSTED_RETRIES = 50;

/**
 * A PacketPort over a pool of helper processes speaking mtr-packet's line protocol on
 * stdin/stdout (mtr-packet itself, or lg-probe, which speaks the same protocol plus its flow
 * fields). Probes beyond the pool's capacity wait in a queue (back-pressure), so a burst of
 * traces slows down instead of failing.
 */
export class HelperPool implements PacketPort {
  private readonly command: string;
  private readonly maxProcesses: number;
  private readonly maxInFlight: number;
  private readonly maxTcp: number;
  private readonly spreadThreshold: number;
  private readonly retryDelayMs: number;
  private readonly helpers: Helper[] = [];
  private readonly queue: Pending[] = [];
  private listeners: ((token: number, outcome: ProbeOutcome) => void)[] = [];
  private sentListeners: ((token: number) => void)[] = [];
  private readonly maxQueueMs: number;
  private fatal: ProbeOutcome | null = null;
  private closed = false;
  private recentCrashes: number[] = [];
  private readonly pacer: Pacer;
  private paceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly profile: HelperProfile,
    opts: HelperPoolOptions = {},
  ) {
    const d = profile.defaults;
    this.command = opts.command ?? profile.name;
    this.maxProcesses = Math.max(1, opts.maxProcesses ?? d.maxProcesses);
    this.maxQueueMs = opts.maxQueueMs ?? 1000;
    this.maxInFlight = Math.min(
      profile.inFlightLimit,
      Math.max(1, opts.maxInFlightPerProcess ?? d.maxInFlightPerProcess),
    );
    this.maxTcp = Math.min(
      this.maxInFlight,
      Math.max(1, opts.maxTcpInFlightPerProcess ?? d.maxTcpInFlightPerProcess),
    );
    this.spreadThreshold = Math.max(1, opts.spreadThreshold ?? d.spreadThreshold);
    this.retryDelayMs = opts.retryDelayMs ?? 20;
    this.pacer =
      opts.pacer ??
      new Pacer({
        ...(opts.maxProbesPerSecond !== undefined ? { perSecond: opts.maxProbesPerSecond } : {}),
        ...(opts.burst !== undefined ? { burst: opts.burst } : {}),
      });
  }

  /** The helper this pool runs. */
  get helper(): ProbeHelperName {
    return this.profile.name;
  }

  /** Processes running now (for tests and metrics). */
  get processCount(): number {
    return this.helpers.filter((h) => h.alive).length;
  }

  /** Probes waiting for capacity. */
  get queued(): number {
    return this.queue.length;
  }

  onOutcome(listener: (token: number, outcome: ProbeOutcome) => void): void {
    this.listeners.push(listener);
  }

  onSent(listener: (token: number) => void): void {
    this.sentListeners.push(listener);
  }

  send(token: number, probe: ProbeSpec): void {
    if (this.closed) return;
    if (this.fatal) {
      const outcome = this.fatal;
      queueMicrotask(() => this.emit(token, outcome));
      return;
    }
    this.queue.push({ token, probe, retries: 0, queuedAt: performance.now() });
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0))
      this.emit(p.token, { kind: "failure", reason: "helper-failed", detail: "the packet port was closed" });
    if (this.paceTimer) clearTimeout(this.paceTimer);
    await Promise.all(
      this.helpers.map(
        (h) =>
          new Promise<void>((resolve) => {
            if (!h.alive) return resolve();
            const timer = setTimeout(() => h.child.kill("SIGKILL"), 1000);
            h.child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            h.child.stdin.end();
            // The helper stays until its outstanding probes time out; nobody waits for those now.
            if (h.inFlight.size > 0) h.child.kill("SIGTERM");
          }),
      ),
    );
    this.listeners = [];
    this.sentListeners = [];
  }

  private emit(token: number, outcome: ProbeOutcome): void {
    // Failures say which helper gave them, so the remedy names the right executable.
    const out =
      outcome.kind === "failure" && outcome.helper === undefined
        ? { ...outcome, helper: this.profile.name }
        : outcome;
    for (const l of this.listeners) l(token, out);
  }

  private pump(): void {
    this.dropStale();
    while (this.queue.length > 0 && !this.fatal && !this.closed) {
      if (!this.takeToken()) return;
      const next = this.queue[0] as Pending;
      const helper = this.pickHelper(next.probe.protocol === "tcp");
      if (!helper) {
        this.pacer.giveBack();
        return; // every process is full: the probe waits for a reply to free a slot
      }
      this.queue.shift();
      this.dispatch(helper, next);
    }
  }

  /** Gives up probes that waited too long for a slot: sent late, their timing would be wrong. */
  private dropStale(): void {
    const now = performance.now();
    while (this.queue.length > 0 && now - (this.queue[0] as Pending).queuedAt > this.maxQueueMs) {
      const stale = this.queue.shift() as Pending;
      this.emit(stale.token, {
        kind: "failure",
        reason: "probes-exhausted",
        detail: `no free ${this.profile.name} slot within ${this.maxQueueMs} ms`,
      });
    }
  }

  private takeToken(): boolean {
    const waitMs = this.pacer.take();
    if (waitMs === 0) return true;
    if (!this.paceTimer) {
      this.paceTimer = setTimeout(() => {
        this.paceTimer = null;
        this.pump();
      }, waitMs);
    }
    return false;
  }

  private hasRoom(h: Helper, tcp: boolean): boolean {
    return h.alive && h.inFlight.size < this.maxInFlight && (!tcp || h.tcpInFlight < this.maxTcp);
  }

  private pickHelper(tcp: boolean): Helper | null {
    let best: Helper | null = null;
    for (const h of this.helpers) {
      if (!this.hasRoom(h, tcp)) continue;
      if (!best || h.inFlight.size < best.inFlight.size) best = h;
    }
    const alive = this.processCount;
    if ((!best || best.inFlight.size >= this.spreadThreshold) && alive < this.maxProcesses)
      return this.startHelper();
    return best;
  }

  private startHelper(): Helper {
    const child = spawn(this.command, [], { stdio: ["pipe", "pipe", "pipe"] });
    const helper: Helper = {
      child,
      inFlight: new Map(),
      tcpInFlight: 0,
      nextLocalToken: 1,
      outbox: [],
      sentTokens: [],
      flushQueued: false,
      stderr: "",
      alive: true,
    };
    this.helpers.push(helper);
    child.stdin.on("error", () => {}); // EPIPE after the helper died: handled by the exit path
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (helper.stderr.length < 4096) helper.stderr += chunk;
    });
    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(helper, line));
    child.on("error", (err: NodeJS.ErrnoException) => {
      const detail =
        err.code === "ENOENT"
          ? this.profile.missing(this.command)
          : `${this.command} could not start: ${err.message}`;
      this.helperGone(helper, { kind: "failure", reason: "helper-failed", detail }, true);
    });
    child.on("exit", (code, signal) => {
      const text = helper.stderr.trim().split("\n")[0] ?? "";
      if (/permission denied|operation not permitted/i.test(text)) {
        this.helperGone(helper, { kind: "failure", reason: "permission-denied", detail: text }, true);
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const detail = `${this.command} ${how}${text ? `: ${text}` : ""}`;
      this.helperGone(helper, { kind: "failure", reason: "helper-failed", detail }, false);
    });
    return helper;
  }

  private helperGone(helper: Helper, outcome: ProbeOutcome, fatal: boolean): void {
    if (!helper.alive) return;
    helper.alive = false;
    const idx = this.helpers.indexOf(helper);
    if (idx >= 0) this.helpers.splice(idx, 1);
    if (this.closed) return;
    const now = Date.now();
    this.recentCrashes = this.recentCrashes.filter((t) => now - t < 10_000);
    this.recentCrashes.push(now);
    // A helper that cannot start, or keeps dying, will not get better by retrying.
    if (fatal || this.recentCrashes.length >= 3) {
      this.fatal = outcome;
      const waiting = this.queue.splice(0);
      for (const p of waiting) this.emit(p.token, outcome);
    }
    for (const p of helper.inFlight.values()) this.emit(p.token, outcome);
    helper.inFlight.clear();
    this.pump();
  }

  private dispatch(helper: Helper, pending: Pending): void {
    const local = helper.nextLocalToken;
    helper.nextLocalToken = local >= 2_000_000_000 ? 1 : local + 1;
    helper.inFlight.set(local, pending);
    if (pending.probe.protocol === "tcp") helper.tcpInFlight++;
    helper.outbox.push(formatProbeCommand(local, pending.probe));
    helper.sentTokens.push(pending.token);
    if (!helper.flushQueued) {
      helper.flushQueued = true;
      // One write per event-loop turn: hundreds of traces share a pipe without a syscall per probe.
      setImmediate(() => {
        helper.flushQueued = false;
        if (!helper.alive || helper.outbox.length === 0) return;
        helper.child.stdin.write(`${helper.outbox.join("\n")}\n`);
        helper.outbox.length = 0;
        const sent = helper.sentTokens.splice(0);
        for (const l of this.sentListeners) for (const t of sent) l(t);
      });
    }
  }

  private onLine(helper: Helper, line: string): void {
    const parsed = parseReplyLine(line);
    if (!parsed) return;
    const pending = helper.inFlight.get(parsed.token);
    if (!pending) return;
    helper.inFlight.delete(parsed.token);
    if (pending.probe.protocol === "tcp") helper.tcpInFlight--;
    const { outcome } = parsed;
    if (
      outcome.kind === "failure" &&
      outcome.reason === "probes-exhausted" &&
      pending.retries < MAX_EXHAUSTED_RETRIES
    ) {
      pending.retries++;
      setTimeout(() => {
        if (this.closed) return;
        pending.queuedAt = performance.now();
        this.queue.unshift(pending);
        this.pump();
      }, this.retryDelayMs);
      this.pump();
      return;
    }
    this.emit(pending.token, outcome);
    this.pump();
  }
}

/**
 * The pool of mtr-packet helpers (mtr's own, Debian's mtr-tiny installs it with cap_net_raw):
 * every probe mtr-packet can send as asked.
 */
export class MtrPacketPort extends HelperPool {
  constructor(opts: HelperPoolOptions = {}) {
    super(MTR_PACKET_PROFILE, opts);
  }
}

/**
 * The pool of lg-probe helpers (helper/PROTOCOL.md): the probes that hold or choose a flow
 * mtr-packet cannot (TCP and IPv6 source ports, ICMP flow ids, IPv6 flow labels) and the IPv4
 * options. `command` is its path (see `probeHelperPath`).
 */
export class LgProbePort extends HelperPool {
  constructor(opts: HelperPoolOptions = {}) {
    super(LG_PROBE_PROFILE, opts);
  }
}
