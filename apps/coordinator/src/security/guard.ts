import type { AgentRow } from "@lg/db";
import { type AllowList, isAllowListed, parseAllowList } from "@lg/protocol";
import { ApiError } from "../errors";
import { database } from "../http/kit";
import type { Logger } from "../logger";
import type { MeasurementService, PreparedMeasurement } from "../measurements/service";
import { checkPublicBounds } from "./bounds";
import { probeRate, probingMs } from "./budget";
import { currentPrincipal, SYSTEM } from "./context";
import type { SettingsAndStore } from "./types";

/**
 * Wraps the measurement service with the client's rate limit and the protections that need the
 * resolved target and the chosen PoPs: public parameter bounds, the opt-out list, the client's
 * concurrency cap, and the per-target probe budget, whose reservation is also the audit row. Path
 * tests and reverse sessions prepare their traces through this service, so they are covered too,
 * whichever route or form they came from. `check` is the policy alone (rate limit, bounds, target,
 * opt-out), reserving nothing: for work that starts later (a reverse session's legs).
 */
export function guardMeasurements(
  inner: MeasurementService,
  deps: SettingsAndStore & { logger: Logger; admit: () => Promise<void> },
): MeasurementService {
  const log = deps.logger.child({ module: "guard" });
  const audits = new WeakMap<PreparedMeasurement, string>();
  let optOutCache: { at: number; list: Promise<AllowList> } | undefined;

  const optOutTable = (): Promise<AllowList> => {
    // Read again after `LG_SECURITY_CACHE` (5 s): a new opt-out reaches every replica within it.
    if (!optOutCache || Date.now() - optOutCache.at > deps.settings.cacheMs) {
      const list = deps.store.listOptOut().then((rows) => parseAllowList(rows.map((r) => r.cidr)));
      optOutCache = { at: Date.now(), list };
      list.catch(() => {
        optOutCache = undefined;
      });
    }
    return optOutCache.list;
  };

  async function checkOptOut(prepared: PreparedMeasurement): Promise<void> {
    const table = await database("read the opt-out list", optOutTable);
    if (isAllowListed(prepared.address, deps.settings.optOut) || isAllowListed(prepared.address, table)) {
      throw new ApiError(
        403,
        "target_opted_out",
        `${prepared.address} is in a network whose operator asked not to be probed`,
        "target",
      );
    }
  }

  async function check(request: Parameters<MeasurementService["prepare"]>[0]): Promise<PreparedMeasurement> {
    await deps.admit();
    const who = currentPrincipal() ?? SYSTEM;
    if (who.limited) checkPublicBounds(request);
    const prepared = await inner.check(request);
    await checkOptOut(prepared);
    return prepared;
  }

  async function prepare(
    request: Parameters<MeasurementService["prepare"]>[0],
  ): Promise<PreparedMeasurement> {
    const prepared = await check(request);
    const who = currentPrincipal() ?? SYSTEM;
    if (who.limited && deps.settings.maxConcurrent > 0) {
      const running = await database("count running measurements", () => deps.store.runningOf(who.clientKey));
      if (running >= deps.settings.maxConcurrent) {
        who.retryAfter = 5;
        throw new ApiError(
          429,
          "too_many_running",
          `${who.clientKey} has ${running} measurements running (at most ${deps.settings.maxConcurrent}); wait for one to finish`,
        );
      }
    }
    const pops = prepared.agents.map((a: AgentRow) => a.id);
    const rate = probeRate(prepared.options, pops.length);
    const budget = deps.settings.targetBudget;
    if (budget > 0 && rate > budget) {
      throw new ApiError(
        400,
        "request_over_budget",
        `this request alone sends about ${rate} probes a minute to ${prepared.address}, over its budget of ${budget}; lower count, raise interval or choose fewer PoPs`,
      );
    }
    const reservation = await database("reserve the target's probe budget", () =>
      deps.store.reserve(
        {
          clientAddress: who.address,
          clientKey: who.clientKey,
          keyId: who.keyId,
          target: prepared.target,
          address: prepared.address,
          pops,
          probeRate: rate,
          endsAt: new Date(Date.now() + probingMs(prepared.options)),
        },
        budget,
      ),
    );
    if (!reservation.ok) {
      if (who !== SYSTEM) who.retryAfter = reservation.retryAfterSeconds;
      log.warn({ address: prepared.address, used: reservation.used, rate }, "target probe budget spent");
      throw new ApiError(
        429,
        "target_budget_exceeded",
        `${prepared.address} already receives about ${reservation.used} probes a minute from this looking glass (budget ${budget}); try again in ${reservation.retryAfterSeconds} s`,
        "target",
      );
    }
    audits.set(prepared, reservation.id);
    return prepared;
  }

  async function start(prepared: PreparedMeasurement, client: string | null) {
    const accepted = await inner.start(prepared, client);
    const auditId = audits.get(prepared);
    if (auditId) {
      await deps.store
        .attachMeasurement(auditId, accepted.id)
        .catch((err) => log.error({ err, auditId }, "could not link the audit row to its measurement"));
    }
    return accepted;
  }

  return {
    ...inner,
    admit: deps.admit,
    check,
    prepare,
    start,
    async submit(request, client) {
      return start(await prepare(request), client);
    },
  };
}
