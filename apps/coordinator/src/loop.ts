import type { Logger } from "./logger";

/**
 * Runs `pass` every `everyMs` (never two at once) until stopped; a failed pass is logged and the
 * next one runs as usual. For the coordinator's own background work (moving sessions and path
 * tests on), which any replica may do: each pass must be safe to run on several replicas at once.
 */
export function startLoop(what: string, pass: () => Promise<void>, logger: Logger, everyMs = 1_000) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pass()
      .catch((err) => logger.warn({ err }, `${what} pass failed`))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
