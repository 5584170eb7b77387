import type { MeasurementRequest } from "@lg/protocol";
import { ApiError } from "../errors";

/**
 * Bounds for public requests, tighter than the schema's (which are what an operator may ask):
 * a stranger gets a normal mtr run, not a flood. An `unlimited` key lifts them.
 */
export const PUBLIC_BOUNDS = {
  count: { max: 100 },
  interval: { min: 0.5 },
  size: { max: 1500 },
  maxTtl: { max: 64 },
  timeout: { max: 10 },
  gracePeriod: { max: 10 },
} as const;

type Bounded = keyof typeof PUBLIC_BOUNDS;

/** Throws 400 `over_public_limit` naming the first field outside the public bounds. */
export function checkPublicBounds(request: Partial<MeasurementRequest>): void {
  const values = request as Partial<Record<Bounded, number>>;
  for (const field of Object.keys(PUBLIC_BOUNDS) as Bounded[]) {
    const value = values[field];
    if (typeof value !== "number") continue;
    const bound: { min?: number; max?: number } = PUBLIC_BOUNDS[field];
    const tooBig = bound.max !== undefined && value > bound.max;
    const tooSmall = bound.min !== undefined && value < bound.min;
    if (tooBig || tooSmall) {
      const limit = tooBig ? `at most ${bound.max}` : `at least ${bound.min}`;
      throw new ApiError(
        400,
        "over_public_limit",
        `'${field}' must be ${limit} for public requests (an operator key with scope 'unlimited' lifts this)`,
        field,
      );
    }
  }
}
