/** What went wrong, in terms a caller can act on. */
export type TracerErrorCode =
  | "no-permission"
  | "invalid-argument"
  | "unsupported"
  | "resolve-failed"
  | "packet-helper";

/**
 * A trace that cannot run or cannot go on. `code` says who failed: the caller's options
 * (`invalid-argument`, `unsupported`), the resolver (`resolve-failed`) or this machine
 * (`no-permission`, `packet-helper`). The message is one line, fit to show to a user.
 */
export class TracerError extends Error {
  override name = "TracerError";
  constructor(
    readonly code: TracerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The advice shown whenever mtr-packet may not open raw sockets. */
export const GRANT_RAW_SOCKETS =
  "grant it with `setcap cap_net_raw+ep /usr/bin/mtr-packet` (Debian's mtr-tiny package does this on install) or run as root";

/** The advice shown whenever lg-probe may not open raw sockets. */
export const GRANT_LG_PROBE_RAW_SOCKETS =
  "run ./scripts/setup as root (it grants lg-probe cap_net_raw), or `setcap cap_net_raw+ep` on the lg-probe executable, or run as root";
