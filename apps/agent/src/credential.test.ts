import type { AgentRole } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { AgentCredentials, roleOfUserJwt, userJwtOf } from "./credential";

/** A creds file whose user JWT names `role` in its tags (unsigned: the agent only reads it). */
function credsFile(role: AgentRole): Uint8Array {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const jwt = `${part({ alg: "ed25519-nkey" })}.${part({ nats: { tags: [`lg-role:${role}`, "lg-agent:fra"] } })}.sig`;
  return new TextEncoder().encode(
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAEXAMPLE\n------END USER NKEY SEED------\n`,
  );
}

describe("the agent's credentials", () => {
  it("reads the user JWT and the role its tags name", () => {
    const jwt = userJwtOf(credsFile("neutral"));
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.sig$/);
    expect(roleOfUserJwt(jwt as string)).toBe("neutral");
  });

  it("announces the role the credentials name, warning once when LG_ROLE said otherwise", () => {
    const files: Record<string, Uint8Array> = { creds: credsFile("neutral") };
    const descriptor = { role: "pop" as AgentRole };
    const warnings: unknown[] = [];
    const creds = new AgentCredentials("creds", descriptor, {
      roleGiven: true,
      warn: (fields) => warnings.push(fields),
      readFile: (f) => files[f] as Uint8Array,
    });
    expect(creds.userJwt).toBeUndefined();
    expect(creds.read()).toBe(files.creds);
    expect(descriptor.role).toBe("neutral");
    expect(creds.userJwt).toBe(userJwtOf(files.creds as Uint8Array));
    expect(warnings).toEqual([{ configured: "pop", credential: "neutral" }]);
    // Rotated credentials naming another role are followed, without another warning.
    files.creds = credsFile("pop");
    creds.read();
    expect(descriptor.role).toBe("pop");
    expect(warnings).toHaveLength(1);
  });

  it("does not warn when LG_ROLE was left to its default", () => {
    const descriptor = { role: "pop" as AgentRole };
    const warnings: unknown[] = [];
    new AgentCredentials("creds", descriptor, {
      warn: (fields) => warnings.push(fields),
      readFile: () => credsFile("neutral"),
    }).read();
    expect(descriptor.role).toBe("neutral");
    expect(warnings).toEqual([]);
  });
});
