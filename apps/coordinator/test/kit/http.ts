import type { ApiErrorBody } from "@lg/protocol";
import { expect } from "vitest";

/**
 * Asserts an API error response: its status, a body that is exactly `{ error }` with this `code`,
 * a non-empty message and this `field` (none when omitted). Returns the error for further checks.
 *
 * @example
 * await expectError(await post({ from: ["fra"] }), 400, "missing_field", "target");
 */
export async function expectError(
  res: Response,
  status: number,
  code: string,
  field?: string,
): Promise<ApiErrorBody["error"]> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ApiErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.field).toBe(field);
  return body.error;
}
