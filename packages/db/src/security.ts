import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Operator API keys. A key is `lgk_<id>_<secret>`; only the SHA-256 of the secret is kept, so a
 * leaked table gives no usable key. Scopes say what a key unlocks.
 */
export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  secretHash: text("secret_hash").notNull(),
  scopes: jsonb("scopes").$type<string[]>().notNull(),
  label: text("label"),
  created: ts("created").notNull().defaultNow(),
  revokedAt: ts("revoked_at"),
});

/** Networks whose owners asked not to be probed, kept by operators (beside `LG_OPT_OUT`). */
export const optOut = pgTable("opt_out", {
  cidr: text("cidr").primaryKey(),
  reason: text("reason"),
  created: ts("created").notNull().defaultNow(),
});

/**
 * Who asked for what: one row per prepared measurement. The same rows carry each request's
 * probe rate until it ends, so the per-target probe budget is shared by every replica.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: ts("at").notNull().defaultNow(),
    /** The client's address as seen by the coordinator (after trusted proxies). */
    clientAddress: text("client_address"),
    /** The address grouped for limits: IPv4 as is, IPv6 by /64. */
    clientKey: text("client_key").notNull(),
    /** The operator key's id when one was used. */
    keyId: text("key_id"),
    target: text("target").notNull(),
    /** The resolved address the probes go to. */
    address: text("address").notNull(),
    pops: jsonb("pops").$type<string[]>().notNull(),
    /** Probes per minute this request sends towards `address`, across its PoPs. */
    probeRate: integer("probe_rate").notNull(),
    /** When its probing is expected to end (start + count x interval + timeout). */
    endsAt: ts("ends_at").notNull(),
    measurementId: text("measurement_id"),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at),
    index("audit_log_address_idx").on(t.address, t.endsAt),
    index("audit_log_client_idx").on(t.clientKey, t.at),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type OptOutRow = typeof optOut.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
