import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "../errors";
import { currentPrincipal } from "./context";

/** The window `LG_RATE_LIMIT` counts in. */
const WINDOW_SECONDS = 60;

/**
 * The per-client rate limit, applied where work starts (the measurement guard's `prepare` and
 * `check`, a reverse session's creation), so every route and form that reaches those operations
 * is counted, whatever its path. A request counts once however many traces it prepares (a path
 * test prepares two). Work without a client (monitor runs, session legs) is not counted.
 *
 * The counters live in memory (rate-limiter-flexible's memory store): each replica counts on its
 * own; the library's Redis or PostgreSQL stores share one count (see the security README).
 */
export function createClientRateLimit(perMinute: number): () => Promise<void> {
  const limiter =
    perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: WINDOW_SECONDS }) : undefined;
  return async function admit(): Promise<void> {
    const who = currentPrincipal();
    if (!limiter || !who?.limited || who.admitted) return;
    who.admitted = true;
    try {
      await limiter.consume(who.clientKey);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const wait = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      who.retryAfter = wait;
      throw new ApiError(
        429,
        "rate_limited",
        `too many requests from ${who.clientKey}: at most ${perMinute} a minute; try again in ${wait} s`,
      );
    }
  };
}
