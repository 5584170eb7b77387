import { diagnose } from "@lg/analysis";
import type { AgentRow, Repository, ReverseSessionRow, TraceRow } from "@lg/db";
import { joinAgentId, type TraceUpload, type TraceView } from "@lg/protocol";
import ipaddr from "ipaddr.js";
import { nanoid } from "nanoid";
import { ApiError } from "../errors";
import { database } from "../http/kit";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import { traceView } from "../measurements/views";
import type { PathTestService } from "../path-tests/service";
import { addressOf } from "../path-tests/service";
import { runAs, SYSTEM } from "../security/context";
import { readUpload, type UploadedTrace, UploadParseError } from "./uploads/parse";

/**
 * How far before the session's creation an uploaded trace may say it started: the customer's clock
 * is not ours. A trace older than that was not run for this session and is refused.
 */
export const UPLOAD_CLOCK_SLACK_MS = 2 * 60_000;

/** The largest upload read (bytes): a 255-hop WinMTR HTML export is ~40 KiB, mtr's JSON less. */
export const UPLOAD_MAX_BYTES = 256 * 1024;

export interface CustomerLinkDeps {
  repo: Repository;
  pathTests: PathTestService;
  measurements: MeasurementService;
  logger: Logger;
}

/** What the session's own service lends the customer link. */
export interface SessionAccess {
  authorize(id: string, token: string | undefined): Promise<ReverseSessionRow>;
  withToken(id: string, token: string | undefined): Promise<ReverseSessionRow>;
  load(id: string): Promise<ReverseSessionRow>;
}

/** The address the customer traces towards, and the agent that traces back (server's PoP, or the neutral one). */
export interface CustomerTarget {
  /** The agent at the far end of the customer's leg: the server's, or the neutral `via`. */
  agentId: string;
  /** Its address the customer's tool should trace (of the customer's family when it is known). */
  address: string | null;
}

const familyOf = (address: string | null | undefined): 4 | 6 | undefined =>
  address && ipaddr.isValid(address) ? (address.includes(":") ? 6 : 4) : undefined;

/** The agent the customer's leg runs against, and the address its tool traces. */
export function customerTarget(row: ReverseSessionRow, agents: AgentRow[]): CustomerTarget {
  const agentId = typeof row.server === "string" ? row.server : (row.via as string);
  const agent = agents.find((a) => a.id === agentId);
  const family = row.options.ipVersion ?? familyOf(row.customerAddress);
  const address = agent ? (addressOf(agent, family) ?? addressOf(agent, undefined) ?? null) : null;
  return { agentId, address };
}

/** The customer's uploaded trace as a trace row would be filled (without ids). */
interface ReadUpload {
  trace: UploadedTrace;
  startedAt: Date;
  upload: TraceUpload;
}

/**
 * The customer's side of a session that needs nothing installed: its link records its public
 * address (`open`), its start button has the server's PoP — or the neutral agent — trace back to
 * that address (`start`), and its own tool's output is the forward leg (`upload`). The uploaded
 * trace is stored like a traced one (origin `upload`, no agent) and the pair is a path test, read
 * with the same diagnosis and comparison.
 */
export function createCustomerLink(deps: CustomerLinkDeps, sessions: SessionAccess) {
  const log = deps.logger.child({ module: "reverse-sessions" });

  /** The customer's leg waits for (or has) this trace: the uploaded one, or one awaiting the upload. */
  async function uploadTraceOf(
    row: ReverseSessionRow,
    target: CustomerTarget,
    client: string | null,
  ): Promise<string> {
    if (row.uploadTraceId) return row.uploadTraceId;
    const measurementId = nanoid();
    const traceId = nanoid();
    await database("store the awaited upload", () =>
      deps.repo.insertUploadTrace({
        measurementId,
        traceId,
        target: target.address ?? target.agentId,
        address: target.address ?? target.agentId,
        options: row.options,
        client,
        status: "queued",
      }),
    );
    if (await database("claim the session's upload", () => deps.repo.claimSessionUpload(row.id, traceId)))
      return traceId;
    // An upload came in meanwhile: use it.
    await database("drop the awaited upload", () => deps.repo.deleteMeasurement(measurementId));
    const again = await sessions.load(row.id);
    return again.uploadTraceId as string;
  }

  /** Reads and checks an uploaded text for this session: its time, its destination. */
  function readFor(
    row: ReverseSessionRow,
    text: string,
    target: CustomerTarget,
    from: string | null,
  ): ReadUpload {
    let trace: UploadedTrace;
    try {
      trace = readUpload(text);
    } catch (err) {
      if (err instanceof UploadParseError)
        throw new ApiError(422, "unreadable_upload", err.message, "upload", { cause: err });
      throw err;
    }
    const now = new Date();
    const startedAt = trace.startedAt ?? now;
    if (startedAt.getTime() < row.created.getTime() - UPLOAD_CLOCK_SLACK_MS) {
      throw new ApiError(
        422,
        "upload_too_old",
        `the trace started at ${startedAt.toISOString()}, before this session was created (${row.created.toISOString()}): run it again now and upload that`,
        "upload",
      );
    }
    const dst = trace.destination;
    if (dst && target.address && ipaddr.isValid(dst) && !sameAddress(dst, target.address)) {
      throw new ApiError(
        422,
        "wrong_destination",
        `the trace goes to ${dst}; this session's trace must go to ${target.address}`,
        "upload",
      );
    }
    const upload: TraceUpload = {
      format: trace.format,
      timeFrom: trace.startedAt ? "format" : "upload",
      ...(trace.startedAt
        ? {}
        : {
            timeNote:
              trace.timeNote ??
              `${trace.format === "mtr-json" || trace.format === "mtr-xml" ? "mtr's" : "this"} format carries no start time: the upload time stands in`,
          }),
      uploadedAt: now.toISOString(),
      uploadedFrom: from,
      ...(trace.source ? { source: trace.source } : {}),
    };
    return { trace, startedAt, upload };
  }

  return {
    /**
     * The customer opened its link: records the address the request came from (the NAT's, after
     * the trusted-proxy rules), unless the session started or a join agent registered. Starts nothing.
     * An ended session is still shown to its customer (with the token), its results on it.
     */
    async open(id: string, token: string | undefined, remote: string | null): Promise<ReverseSessionRow> {
      const row = await sessions.withToken(id, token);
      const open = row.status === "waiting" && row.expiresAt.getTime() > Date.now();
      if (!remote || !open || row.customerAgentId) return row;
      const opened = await database("record the customer's address", () =>
        deps.repo.openCustomerLink(id, plainAddress(remote), new Date()),
      );
      if (opened)
        log.info({ sessionId: id, publicAddress: opened.customerAddress }, "customer opened its link");
      return opened ?? row;
    },

    /**
     * The customer pressed start (or a script POSTed the link): the session runs from the address of
     * this request. The server's PoP (or the neutral agent) traces back to it at once; the customer's
     * own direction is its upload, before or after. A second start from the same address changes
     * nothing; the legs are the coordinator's work (no public limits), the request counts against
     * the customer's rate limit.
     */
    async start(id: string, token: string | undefined, remote: string | null): Promise<ReverseSessionRow> {
      const row = await sessions.authorize(id, token);
      await deps.measurements.admit();
      if (!remote) throw new ApiError(400, "no_client_address", "the coordinator cannot tell your address");
      const address = plainAddress(remote);
      if (row.customerAgentId)
        throw new ApiError(
          409,
          "joined_with_agent",
          `reverse session '${id}' runs with the customer's join agent`,
        );
      if (row.status !== "waiting") {
        if (row.customerAddress === address) return row;
        throw new ApiError(
          409,
          "already_started",
          `reverse session '${id}' was started from another address`,
        );
      }
      const agents = await database("list agents", () => deps.repo.listAgents());
      const target = customerTarget({ ...row, customerAddress: address }, agents);
      const far = agents.find((a) => a.id === target.agentId);
      if (!far?.online || !target.address)
        throw new ApiError(409, "agent_offline", `agent '${target.agentId}' is offline; try again later`);
      const started = await database("start reverse session", () =>
        deps.repo.startFromCustomerLink(id, address, new Date()),
      );
      if (!started) {
        // Another request started it first (a double click, another replica).
        const again = await sessions.load(id);
        if (again.status === "running" && !again.customerAgentId && again.customerAddress === address)
          return again;
        throw new ApiError(
          409,
          "already_started",
          `reverse session '${id}' was started from another address`,
        );
      }
      try {
        await runAs(SYSTEM, () => startLegs(started, target, address));
      } catch (err) {
        // Nothing ran: the customer may press start again.
        await deps.repo.advanceReverseSession(id, ["running"], { status: "waiting" }).catch(() => undefined);
        throw err;
      }
      log.info({ sessionId: id, publicAddress: address }, "customer started the session from its link");
      return sessions.load(id);
    },

    /**
     * An upload of the customer's own trace (mtr's report, JSON, CSV or XML, or a WinMTR export): read,
     * checked (its time against the session's, its destination against the session's target), and
     * stored as the forward leg. One per session.
     */
    async upload(
      id: string,
      token: string | undefined,
      text: string,
      remote: string | null,
    ): Promise<{ trace: TraceView; row: ReverseSessionRow }> {
      const row = await sessions.authorize(id, token);
      await deps.measurements.admit();
      if (row.customerAgentId)
        throw new ApiError(
          409,
          "joined_with_agent",
          `reverse session '${id}' runs with the customer's join agent`,
        );
      const agents = await database("list agents", () => deps.repo.listAgents());
      const target = customerTarget(row, agents);
      const from = remote ? plainAddress(remote) : null;
      const read = readFor(row, text, target, from);
      const hops = read.trace.hops;
      const address = target.address ?? read.trace.destination ?? target.agentId;
      const reached = hops.at(-1)?.host === address;
      const diagnosis = diagnose(hops, {
        destination: address,
        ...(reached ? { reachedDestination: true } : {}),
      });
      const fill = {
        target: read.trace.destination ?? address,
        hops,
        diagnosis,
        upload: read.upload,
        startedAt: read.startedAt,
        finishedAt: new Date(read.upload.uploadedAt),
      };
      let stored: TraceRow | undefined;
      if (row.uploadTraceId) {
        stored = await database("store the upload", () =>
          deps.repo.fillUploadTrace(row.uploadTraceId as string, fill),
        );
      } else {
        const measurementId = nanoid();
        const traceId = nanoid();
        await database("store the upload", () =>
          deps.repo.insertUploadTrace({
            measurementId,
            traceId,
            address,
            options: row.options,
            client: from,
            status: "done",
            ...fill,
          }),
        );
        if (await database("claim the session's upload", () => deps.repo.claimSessionUpload(id, traceId))) {
          stored = await database("read the upload", () => deps.repo.getTrace(traceId));
        } else {
          await database("drop the upload", () => deps.repo.deleteMeasurement(measurementId));
          const again = await sessions.load(id);
          stored = await database("store the upload", () =>
            deps.repo.fillUploadTrace(again.uploadTraceId as string, fill),
          );
        }
      }
      if (!stored)
        throw new ApiError(
          409,
          "already_uploaded",
          `reverse session '${id}' already has the customer's trace`,
        );
      log.info(
        { sessionId: id, format: read.upload.format, hops: hops.length, timeFrom: read.upload.timeFrom },
        "customer uploaded its trace",
      );
      return { trace: traceView(stored), row: await sessions.load(id) };
    },
  };

  /**
   * The legs of a session run from the link. Server agent: one path test whose forward trace is the
   * upload (customer -> server) and whose reverse the server traces to the customer's address. Host
   * server: the same against the neutral agent, and the neutral agent -> host as today.
   */
  async function startLegs(row: ReverseSessionRow, target: CustomerTarget, customer: string): Promise<void> {
    const options = row.options;
    const reverse = await deps.measurements.prepare({ ...options, target: customer, from: [target.agentId] });
    if (typeof row.server !== "string") {
      await deps.pathTests.create({ ...options, a: target.agentId, b: row.server }, null, {
        sessionId: row.id,
      });
    }
    const forwardTraceId = await uploadTraceOf(row, target, customer);
    const accepted = await deps.measurements.start(reverse, null);
    await database("create the customer's leg", () =>
      deps.repo.createPathTest({
        id: nanoid(),
        options: reverse.options,
        a: joinAgentId(row.id),
        b: target.agentId,
        aAddress: customer,
        bAddress: target.address as string,
        forwardTraceId,
        reverseTraceId: accepted.traces[0]?.id ?? null,
        note: null,
        sessionId: row.id,
      }),
    );
  }
}

/** `::ffff:198.51.100.7` (an IPv4 client on a dual-stack socket) is 198.51.100.7. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}

function sameAddress(a: string, b: string): boolean {
  try {
    return ipaddr.process(a).toString() === ipaddr.process(b).toString();
  } catch {
    return a === b;
  }
}

export type CustomerLink = ReturnType<typeof createCustomerLink>;
