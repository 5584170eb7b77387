import { z } from "zod";

export const HealthReport = z.object({
  status: z.enum(["ok", "degraded"]),
  nats: z.enum(["ok", "down"]),
  database: z.enum(["ok", "down"]),
});
export type HealthReport = z.infer<typeof HealthReport>;

export interface HealthChecks {
  nats(): Promise<boolean>;
  database(): Promise<boolean>;
}

/** Both checks run at once and each is bounded, so a hung dependency cannot hang the probe. */
export async function checkHealth(checks: HealthChecks, timeoutMs = 2_000): Promise<HealthReport> {
  const bounded = (p: () => Promise<boolean>) =>
    Promise.race([
      p().catch(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
  const [nats, database] = await Promise.all([bounded(checks.nats), bounded(checks.database)]);
  return {
    status: nats && database ? "ok" : "degraded",
    nats: nats ? "ok" : "down",
    database: database ? "ok" : "down",
  };
}
