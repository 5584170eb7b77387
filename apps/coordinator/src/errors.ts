import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

type Issues = { issues: z.core.$ZodIssue[] };

/**
 * An error the API reports to its caller as `{"error": {"code", "message", "field"?}}`.
 * Codes are stable; messages are for people.
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A dependency (database, NATS) did not answer: 503, the caller may retry. */
export class DependencyError extends ApiError {
  override name = "DependencyError";
  constructor(code: "database_unavailable" | "nats_unavailable", message: string, options?: ErrorOptions) {
    super(503, code, message, undefined, options);
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, "not_found", `${what} '${id}' does not exist`);

/** Turns the first zod issue into an ApiError that names the field. */
export function validationError(
  error: Issues,
  where: "body" | "query" | "path" | "header" | "cookie",
  input?: unknown,
): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError(400, "invalid_request", `the ${where} is not valid`);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = [...issue.path, key].join(".");
    return new ApiError(400, "unknown_field", `'${field}' is not a known field`, field);
  }
  const field = issue.path.map(String).join(".");
  if (!field) return new ApiError(400, "invalid_request", `the ${where} is not valid: ${issue.message}`);
  const code =
    // A missing field of a union type (`b`: an agent id or {host}) fails as invalid_union.
    (issue.code === "invalid_type" || issue.code === "invalid_union") &&
    valueAt(input, issue.path) === undefined
      ? "missing_field"
      : "invalid_field";
  const message = code === "missing_field" ? `'${field}' is required` : `'${field}': ${issue.message}`;
  return new ApiError(400, code, message, field);
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
