import {
  type ApiKeyRow,
  type AuditEvent,
  type AuditRow,
  and,
  apiKeys,
  auditLog,
  type Database,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  type OperatorSessionRow,
  operatorSessions,
  optOut,
  sql,
  traces,
} from "@lg/db";
import { nanoid } from "nanoid";

export interface NewAuditEntry {
  clientAddress: string | null;
  clientKey: string;
  keyId: string | null;
  target: string;
  address: string;
  pops: string[];
  probeRate: number;
  endsAt: Date;
}

export type Reservation = { ok: true; id: string } | { ok: false; used: number; retryAfterSeconds: number };

/** The security tables' queries (keys, opt-out list, audit log and the probe budget). */
export function createSecurityStore(db: Database) {
  return {
    async findKey(id: string): Promise<ApiKeyRow | undefined> {
      const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
      return row;
    },

    async insertKey(row: { id: string; secretHash: string; scopes: string[]; label: string | null }) {
      await db.insert(apiKeys).values(row);
    },

    listKeys(): Promise<ApiKeyRow[]> {
      return db.select().from(apiKeys).orderBy(apiKeys.created);
    },

    /** Revokes a key and ends its browser sessions; false when no such live key exists. */
    async revokeKey(id: string): Promise<boolean> {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      if (rows.length > 0) {
        await db
          .update(operatorSessions)
          .set({ endedAt: new Date() })
          .where(and(eq(operatorSessions.keyId, id), isNull(operatorSessions.endedAt)));
      }
      return rows.length > 0;
    },

    async insertSession(row: { id: string; keyId: string; expiresAt: Date; clientAddress: string | null }) {
      await db.insert(operatorSessions).values(row);
    },

    async findSession(id: string): Promise<OperatorSessionRow | undefined> {
      const [row] = await db.select().from(operatorSessions).where(eq(operatorSessions.id, id));
      return row;
    },

    /** Ends a session (sign-out); false when it had already ended or does not exist. */
    async endSession(id: string): Promise<boolean> {
      const rows = await db
        .update(operatorSessions)
        .set({ endedAt: new Date() })
        .where(and(eq(operatorSessions.id, id), isNull(operatorSessions.endedAt)))
        .returning({ id: operatorSessions.id });
      return rows.length > 0;
    },

    /** Deletes sessions that expired or ended before `cutoff`; returns how many. */
    async pruneSessions(cutoff: Date): Promise<number> {
      const rows = await db
        .delete(operatorSessions)
        .where(sql`coalesce(${operatorSessions.endedAt}, ${operatorSessions.expiresAt}) < ${cutoff}`)
        .returning({ id: operatorSessions.id });
      return rows.length;
    },

    /** Writes an audit row of an operator's sign-in, failed sign-in or sign-out. */
    async recordSignIn(entry: {
      event: Exclude<AuditEvent, "measurement">;
      detail: string | null;
      clientAddress: string | null;
      clientKey: string;
      keyId: string | null;
    }): Promise<void> {
      await db.insert(auditLog).values({ id: nanoid(), ...entry });
    },

    listOptOut() {
      return db.select().from(optOut).orderBy(optOut.cidr);
    },

    async addOptOut(cidr: string, reason: string | null) {
      await db.insert(optOut).values({ cidr, reason }).onConflictDoUpdate({
        target: optOut.cidr,
        set: { reason },
      });
    },

    async removeOptOut(cidr: string): Promise<boolean> {
      const rows = await db.delete(optOut).where(eq(optOut.cidr, cidr)).returning({ cidr: optOut.cidr });
      return rows.length > 0;
    },

    /**
     * Checks the target's probe budget and writes the audit row in one transaction, under an
     * advisory lock on the address, so two replicas cannot both spend the last of a budget.
     * `budget` 0 means no budget: the row is written anyway.
     */
    async reserve(entry: NewAuditEntry, budget: number): Promise<Reservation> {
      return db.transaction(async (tx) => {
        if (budget > 0) {
          await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lg-budget:${entry.address}`}))`);
          const now = new Date();
          const active = await tx
            .select({ rate: auditLog.probeRate, endsAt: auditLog.endsAt })
            .from(auditLog)
            .where(and(eq(auditLog.address, entry.address), gt(auditLog.endsAt, now)));
          const used = active.reduce((sum, r) => sum + (r.rate ?? 0), 0);
          if (used + entry.probeRate > budget) {
            // When enough of the active requests will have ended for this one to fit.
            const ends = active.map((r) => r.endsAt?.getTime() ?? now.getTime()).sort((a, b) => a - b);
            let freed = 0;
            let at = ends[ends.length - 1] ?? now.getTime();
            for (const [i, end] of ends.entries()) {
              freed += active[i]?.rate ?? 0;
              if (used - freed + entry.probeRate <= budget) {
                at = end;
                break;
              }
            }
            return {
              ok: false,
              used,
              retryAfterSeconds: Math.max(1, Math.ceil((at - now.getTime()) / 1000)),
            };
          }
        }
        const id = nanoid();
        await tx.insert(auditLog).values({ id, ...entry });
        return { ok: true, id };
      });
    },

    async attachMeasurement(auditId: string, measurementId: string) {
      await db.update(auditLog).set({ measurementId }).where(eq(auditLog.id, auditId));
    },

    /** Measurements of this client (seen in the last hour) with a trace still queued or running. */
    async runningOf(clientKey: string): Promise<number> {
      const since = new Date(Date.now() - 3_600_000);
      const rows = await db
        .selectDistinct({ id: auditLog.measurementId })
        .from(auditLog)
        .innerJoin(traces, eq(traces.measurementId, auditLog.measurementId))
        .where(
          and(
            eq(auditLog.clientKey, clientKey),
            gt(auditLog.at, since),
            inArray(traces.status, ["queued", "running"]),
          ),
        );
      return rows.length;
    },

    listAudit(q: {
      limit: number;
      target?: string;
      client?: string;
      before?: Date;
      event?: AuditEvent;
    }): Promise<AuditRow[]> {
      const where = [
        q.event ? eq(auditLog.event, q.event) : undefined,
        q.target ? sql`(${auditLog.target} = ${q.target} or ${auditLog.address} = ${q.target})` : undefined,
        q.client ? eq(auditLog.clientKey, q.client) : undefined,
        q.before ? lt(auditLog.at, q.before) : undefined,
      ].filter((w) => w !== undefined);
      return db
        .select()
        .from(auditLog)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(auditLog.at))
        .limit(q.limit);
    },

    /** Deletes audit rows older than `cutoff`; returns how many. */
    async pruneAudit(cutoff: Date): Promise<number> {
      const rows = await db.delete(auditLog).where(lt(auditLog.at, cutoff)).returning({ id: auditLog.id });
      return rows.length;
    },
  };
}

export type SecurityStore = ReturnType<typeof createSecurityStore>;
