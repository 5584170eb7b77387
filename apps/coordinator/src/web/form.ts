import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { ApiError, validationError } from "../errors";
import type { FieldError } from "./components/form-page";
import type { FormFields } from "./form-input";

/** How one HTML form maps onto its API route: the same schema, the same service, its errors beside fields. */
export interface FormSpec<S extends z.ZodType, V> {
  /** The API's own request schema (the form gets the API's messages). */
  schema: S;
  /** The fields as typed (shown again next to an error) and the API body they make. Checks nothing. */
  read(fields: FormFields): { values: V; body: Record<string, unknown> };
  /** Calls the API's service with the checked request and answers (a redirect, a page). */
  submit(request: z.output<S>): Promise<Response>;
  /** The form again, as typed, with the error beside its field. */
  again(values: V, error: FieldError, status: ContentfulStatusCode): Response | Promise<Response>;
}

/** An API error as the form shows it: its code, message and field. */
export const fieldError = (e: ApiError): FieldError => ({
  code: e.code,
  message: e.message,
  ...(e.field ? { field: e.field } : {}),
});

/**
 * Handles a plain HTML form post (no JavaScript needed): parse the body, check it with the API's
 * zod schema, submit it through the API's service; a schema error (400, the API's
 * `validationError`) or an `ApiError` from the service (its status) renders the form again.
 *
 * @example
 *   web.post("/p", (c) => submitForm(c, { schema: PathTestRequest, read, submit, again }));
 */
export async function submitForm<S extends z.ZodType, V>(
  c: Context,
  spec: FormSpec<S, V>,
): Promise<Response> {
  const fields = (await c.req.parseBody({ all: true })) as FormFields;
  const { values, body } = spec.read(fields);
  const parsed = spec.schema.safeParse(body);
  if (!parsed.success)
    return spec.again(values, fieldError(validationError(parsed.error, "body", body)), 400);
  try {
    return await spec.submit(parsed.data);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return spec.again(values, fieldError(err), err.status);
  }
}
