import type { HopEvent, PathTestView, TraceView } from "@lg/protocol";
import { type MeasurementEvent, type WatchDeps, watchMeasurement } from "../live/watch";
import type { PathTestService } from "./service";

export type PathTestEvent =
  | { event: "snapshot"; data: PathTestView }
  | { event: "hop"; data: HopEvent }
  | { event: "trace"; data: TraceView }
  | { event: "done"; data: PathTestView }
  | { event: "keepalive" };

/** How often a watcher looks again while the comparison waits for its follow-ups. */
const FOLLOW_UP_POLL_MS = 500;

/**
 * The live events of a path test: a `snapshot` of the whole test, then the `hop` and `trace`
 * events of both directions as they come (each direction is one measurement's stream), and `done`
 * with the final view, comparison included, once both directions and their follow-ups are finished.
 */
export async function* watchPathTest(
  deps: WatchDeps & { pathTests: PathTestService },
  id: string,
  signal: AbortSignal,
): AsyncGenerator<PathTestEvent> {
  const first = await deps.pathTests.get(id);
  const measurementIds = [first.forward.measurementId, first.reverse?.measurementId].filter(
    (m): m is string => !!m,
  );
  const queue: (MeasurementEvent | { event: "ended" })[] = [];
  let wake: (() => void) | undefined;
  const push = (e: MeasurementEvent | { event: "ended" }) => {
    queue.push(e);
    wake?.();
  };
  const inner = new AbortController();
  const stopInner = () => inner.abort();
  signal.addEventListener("abort", stopInner);
  let snapshots = 0;
  // Each direction's stream subscribes before it reads its snapshot, so once both snapshots are in,
  // nothing that happens afterwards can be missed.
  const pumps = measurementIds.map(async (mid) => {
    try {
      for await (const e of watchMeasurement(deps, mid, inner.signal)) push(e);
    } finally {
      push({ event: "ended" });
    }
  });
  let ended = 0;
  try {
    while (!signal.aborted && ended < measurementIds.length) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (signal.aborted) resolve();
        });
        wake = undefined;
        continue;
      }
      const e = queue.shift() as MeasurementEvent | { event: "ended" };
      if (e.event === "ended") {
        ended++;
        continue;
      }
      if (e.event === "snapshot") {
        snapshots++;
        if (snapshots === measurementIds.length)
          yield { event: "snapshot", data: await deps.pathTests.get(id) };
        continue;
      }
      if (e.event === "done") continue;
      if (snapshots < measurementIds.length) continue;
      yield e;
    }
    // Both directions are finished; the comparison may still wait for its follow-ups (alias traces).
    let last = signal.aborted ? undefined : await deps.pathTests.get(id);
    while (last && last.status !== "done" && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_UP_POLL_MS);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (!signal.aborted) last = await deps.pathTests.get(id);
    }
    if (!signal.aborted && last) yield { event: "done", data: last };
  } finally {
    signal.removeEventListener("abort", stopInner);
    inner.abort();
    wake?.();
    await Promise.allSettled(pumps);
  }
}
