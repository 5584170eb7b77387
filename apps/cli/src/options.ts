import { CliError } from "./errors";

/** Exit code of a usage error: a bad flag, argument or environment variable (see `lg --help`). */
export const USAGE = 2;

/**
 * Reads a numeric flag's text; undefined when the flag was not given. Empty text, anything
 * `Number` does not read whole, a fraction where a whole number is asked, or a value under `min`
 * (or over `max`) is a usage error (exit code 2) in one line naming the flag:
 *
 *   numberOption("-c/--count", "ten", { integer: true })  // throws `-c/--count: "ten" is not a whole number`
 */
export function numberOption(
  flag: string,
  text: string | undefined,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  const kind = opts.integer ? "a whole number" : "a number";
  if (text.trim() === "" || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value)))
    throw new CliError(`${flag}: "${text}" is not ${kind}`, USAGE);
  if (opts.min !== undefined && value < opts.min)
    throw new CliError(`${flag}: "${text}" is less than ${opts.min}`, USAGE);
  if (opts.max !== undefined && value > opts.max)
    throw new CliError(`${flag}: "${text}" is more than ${opts.max}`, USAGE);
  return value;
}
