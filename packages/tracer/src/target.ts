import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { TracerError } from "./errors";

/**
 * Turns a target (IP literal or hostname) into the address to probe. `ipVersion` picks the
 * family for a hostname and must agree with a literal.
 */
export async function resolveTarget(
  target: string,
  ipVersion?: 4 | 6,
): Promise<{ address: string; family: 4 | 6 }> {
  const trimmed = target.trim();
  const literal = isIP(trimmed.replace(/^\[|\]$/g, ""));
  if (literal !== 0) {
    const address = trimmed.replace(/^\[|\]$/g, "");
    if (ipVersion !== undefined && ipVersion !== literal)
      throw new TracerError(
        "invalid-argument",
        `${address} is an IPv${literal} address but -${ipVersion} asks for IPv${ipVersion}`,
      );
    return { address, family: literal as 4 | 6 };
  }
  if (trimmed === "" || trimmed.length > 253 || !/^[A-Za-z0-9_.-]+$/.test(trimmed))
    throw new TracerError("invalid-argument", `"${target}" is neither an IP address nor a hostname`);
  try {
    const found = await lookup(trimmed, { family: ipVersion ?? 0 });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "failed";
    const family = ipVersion ? ` (IPv${ipVersion})` : "";
    throw new TracerError("resolve-failed", `cannot resolve ${trimmed}${family}: ${code}`, { cause: err });
  }
}
