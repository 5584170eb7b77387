/*
 * How enrichment loads its tables: each is optional, a failure is reported and enrichment goes on
 * without it, and a process-wide table is read once.
 */

/**
 * Runs `load(asked)` when the settings ask for it (`asked`: a file name, or true); undefined when
 * they do not (unset, empty or false), or when loading fails, the error then reported through
 * `onError`.
 *
 * @example
 * const table = (await loadIfAsked(settings.prefixFile, loadPrefixTable, onError)) ?? new PrefixTable([]);
 */
export async function loadIfAsked<A, T>(
  asked: A | false | undefined,
  load: (asked: A) => Promise<T>,
  onError: (err: unknown) => void,
): Promise<T | undefined> {
  if (!asked) return undefined;
  return load(asked as A).catch((err: unknown) => {
    onError(err);
    return undefined;
  });
}

/**
 * `load` shared by every caller in the process (every coordinator in it): the first call starts it,
 * the others get the same promise; after a failure the next call tries again.
 */
export function sharedUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let shared: Promise<T> | undefined;
  return () => {
    shared ??= load().catch((err: unknown) => {
      shared = undefined;
      throw err;
    });
    return shared;
  };
}
