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
 * Operators' browser sessions (`/login` with an operator key). The cookie holds a random token;
 * only its SHA-256 is kept (`id`), so a leaked table opens no session. A session ends at
 * `expires_at`, at sign-out (`ended_at`), or when its key is revoked.
 */
export const operatorSessions = pgTable(
  "operator_sessions",
  {
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    created: ts("created").notNull().defaultNow(),
    expiresAt: ts("expires_at").notNull(),
    endedAt: ts("ended_at"),
    /** The address that signed in (after trusted proxies). */
    clientAddress: text("client_address"),
  },
  (t) => [
    index("operator_sessions_key_idx").on(t.keyId),
    index("operator_sessions_expires_idx").on(t.expiresAt),
  ],
);

/** What an audit row records: a prepared measurement, or an operator's sign-in, failed sign-in or sign-out. */
export type AuditEvent = "measurement" | "sign-in" | "sign-in-failed" | "sign-out";

/**
 * Who asked for what: one row per prepared measurement, and one per sign-in, failed sign-in and
 * sign-out (`event`; those leave the measurement's columns null). The measurement rows carry each
 * request's probe rate until it ends, so the per-target probe budget is shared by every replica.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: ts("at").notNull().defaultNow(),
    event: text("event").$type<AuditEvent>().notNull().default("measurement"),
    /** Sign-ins: why one failed (`unknown key`, `revoked key`, …), or the session's end. */
    detail: text("detail"),
    /** The client's address as seen by the coordinator (after trusted proxies). */
    clientAddress: text("client_address"),
    /** The address grouped for limits: IPv4 as is, IPv6 by /64. */
    clientKey: text("client_key").notNull(),
    /** The operator key's id when one was used (a failed sign-in: the id the key named, if any). */
    keyId: text("key_id"),
    target: text("target"),
    /** The resolved address the probes go to. */
    address: text("address"),
    pops: jsonb("pops").$type<string[]>(),
    /** Probes per minute this request sends towards `address`, across its PoPs. */
    probeRate: integer("probe_rate"),
    /** When its probing is expected to end (start + count x interval + timeout). */
    endsAt: ts("ends_at"),
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
export type OperatorSessionRow = typeof operatorSessions.$inferSelect;
