import {
  ConfigError,
  createApiKey,
  DatabaseError,
  databaseLocation,
  isScope,
  openSecurityStore,
  SCOPE_HELP,
  SCOPES,
  type Scope,
  type SecurityStore,
} from "@lg/coordinator";
import type { Command } from "commander";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";

/**
 * Opens the coordinator's database where the coordinator's own configuration puts it:
 * `DATABASE_URL`, else the embedded database in `$LG_DATA_DIR/pg` (which only one process may
 * open: stop `lg up` first).
 */
async function withStore<T>(fn: (store: SecurityStore) => Promise<T>): Promise<T> {
  const location = databaseLocation(loadCliConfig().environment);
  let opened: Awaited<ReturnType<typeof openSecurityStore>>;
  try {
    opened = await openSecurityStore(location);
  } catch (err) {
    if (err instanceof DatabaseError || err instanceof ConfigError) throw new CliError(err.message);
    throw new CliError(`cannot open the database: ${(err as Error).message}`);
  }
  try {
    return await fn(opened.store);
  } finally {
    await opened.close();
  }
}

function scopesOf(list: string[]): Scope[] {
  if (list.length === 0) throw new CliError(`give at least one --scope (${SCOPES.join(", ")})`, USAGE);
  return list.map((s) => {
    if (!isScope(s)) throw new CliError(`unknown scope '${s}'; scopes are ${SCOPES.join(", ")}`, USAGE);
    return s;
  });
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(",").filter(Boolean)];

/** `lg keys create|list|revoke`: operator API keys, straight in the coordinator's database. */
export function register(keys: Command): void {
  keys
    .command("create")
    .description(
      `create a key and print it once; scopes: ${SCOPES.map((s) => `${s} (${SCOPE_HELP[s]})`).join("; ")}`,
    )
    .option("-s, --scope <scope>", "a scope (repeat or comma-separate)", collect, [])
    .option("-l, --label <text>", "a note to recognise the key by")
    .action(async (opts: { scope: string[]; label?: string }) => {
      const scopes = scopesOf(opts.scope);
      const { id, key } = await withStore((store) => createApiKey(store, scopes, opts.label ?? null));
      process.stdout.write(`${key}\n`);
      process.stderr.write(`key ${id} created with scopes ${scopes.join(",")}; it is not shown again\n`);
    });

  keys
    .command("list")
    .description("list keys (id, scopes, label, created, revoked); secrets are never shown")
    .action(async () => {
      const rows = await withStore((store) => store.listKeys());
      for (const r of rows) {
        const revoked = r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : "active";
        process.stdout.write(
          `${r.id}\t${r.scopes.join(",")}\t${revoked}\t${r.created.toISOString()}\t${r.label ?? ""}\n`,
        );
      }
    });

  keys
    .command("revoke <id>")
    .description("revoke a key by its id (takes effect on every coordinator within 5 s)")
    .action(async (id: string) => {
      const done = await withStore((store) => store.revokeKey(id.replace(/^lgk_/, "").split("_")[0] ?? id));
      if (!done) throw new CliError(`no active key '${id}'`);
      process.stderr.write(`key ${id} revoked\n`);
    });
}
