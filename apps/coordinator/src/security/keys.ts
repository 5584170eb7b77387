import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { customAlphabet } from "nanoid";

/** What an operator key can unlock. `admin` implies every other scope. */
export const SCOPES = ["unlimited", "audit", "opt-out", "monitors", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_HELP: Record<Scope, string> = {
  unlimited: "lifts the public rate limit, concurrency cap and parameter bounds",
  audit: "reads the audit log (GET /api/v1/admin/audit)",
  "opt-out": "reads and edits the opt-out list (/api/v1/admin/opt-out)",
  monitors: "creates, lists and deletes monitors and reads alerts (/api/v1/monitors, /api/v1/alerts)",
  admin: "every scope",
};

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

export function hasScope(scopes: readonly string[], wanted: Scope): boolean {
  return scopes.includes(wanted) || scopes.includes("admin");
}

const newId = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 12);
const KEY = /^lgk_([0-9a-z]{12})_([A-Za-z0-9_-]{32})$/;

/** SHA-256 of a key's secret, hex. The secret has 192 random bits, so no slow hash is needed. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** A new key: the full text (shown once) and what is stored. */
export function generateKey(): { key: string; id: string; secretHash: string } {
  const id = newId();
  const secret = randomBytes(24).toString("base64url");
  return { key: `lgk_${id}_${secret}`, id, secretHash: hashSecret(secret) };
}

/** Splits a presented key into id and secret, or null when it is not shaped like one. */
export function parseKey(text: string): { id: string; secret: string } | null {
  const m = KEY.exec(text.trim());
  return m ? { id: m[1] as string, secret: m[2] as string } : null;
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Creates and stores a key; the returned text is the only time the whole key exists. */
export async function createApiKey(
  store: {
    insertKey(row: { id: string; secretHash: string; scopes: string[]; label: string | null }): Promise<void>;
  },
  scopes: readonly Scope[],
  label: string | null,
): Promise<{ id: string; key: string }> {
  const { key, id, secretHash } = generateKey();
  await store.insertKey({ id, secretHash, scopes: [...new Set(scopes)], label });
  return { id, key };
}
