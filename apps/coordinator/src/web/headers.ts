import { secureHeaders } from "hono/secure-headers";

/**
 * Headers of every web page: scripts only from our own files (no inline script, so a name that
 * slips through escaping still cannot run), no framing, no referrer leaking a measurement id.
 * Handlers that need another policy (the self-contained HTML export) set their own header first.
 */
export const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "same-origin",
  xFrameOptions: "DENY",
  // TLS is the operator's choice (a proxy or LG_TLS_*); HSTS on plain HTTP is meaningless.
  strictTransportSecurity: false,
  overwrite: false,
});

/** The downloadable HTML file: its own inline stylesheet, no script at all. */
export const EXPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";
