/**
 * Turns the fields of the HTML form into the body `POST /api/v1/measurements` takes, so the form
 * goes through the very same schema and service (and gets the very same error messages). Only
 * the shape changes here: empty fields are left out, numbers become numbers, and the PoP
 * checkboxes become `from`. Nothing is checked here.
 */
export type FormFields = Record<string, string | string[]>;

/** The form as typed, to show it again next to an error. */
export interface FormValues {
  target: string;
  from: string[];
  protocol: string;
  port: string;
  ipVersion: string;
  count: string;
}

/** A single-valued field, trimmed ("" when absent). */
export const one = (v: string | string[] | undefined): string =>
  (Array.isArray(v) ? (v[0] ?? "") : (v ?? "")).trim();
const many = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter(Boolean);

export function formValues(fields: FormFields): FormValues {
  return {
    target: one(fields.target),
    from: many(fields.from),
    protocol: one(fields.protocol) || "icmp",
    port: one(fields.port),
    ipVersion: one(fields.ipVersion),
    count: one(fields.count),
  };
}

/** A numeric field as a number when it is one, else as typed (the schema then says what is wrong). */
export function numberOrText(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

export function measurementBody(v: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = { target: v.target };
  if (v.from.length > 0) body.from = v.from;
  if (v.protocol) body.protocol = v.protocol;
  // The port only means something for UDP and TCP; a leftover value with ICMP is ignored.
  if (v.port && v.protocol !== "icmp") body.port = numberOrText(v.port);
  if (v.ipVersion && v.ipVersion !== "auto") body.ipVersion = numberOrText(v.ipVersion);
  if (v.count) body.count = numberOrText(v.count);
  return body;
}
