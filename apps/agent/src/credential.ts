import { type AgentRole, readCredentialTags } from "@lg/protocol";

const USER_JWT = /-----BEGIN NATS USER JWT-----\s*([\w-]+\.[\w-]+\.[\w-]*)/;

/** The user JWT of a creds file (its public half; the seed stays in the file), if it has one. */
export function userJwtOf(creds: Uint8Array | string): string | undefined {
  const text = typeof creds === "string" ? creds : new TextDecoder().decode(creds);
  return USER_JWT.exec(text)?.[1];
}

/**
 * The role a user JWT's tags name (`lg-role:<role>`), unverified: this is the agent reading its
 * own file to announce the role the coordinator will find there, which checks the signature.
 */
export function roleOfUserJwt(jwt: string): AgentRole | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      nats?: { tags?: unknown };
    };
    const tags = payload.nats?.tags;
    return readCredentialTags(Array.isArray(tags) ? tags : undefined).role;
  } catch {
    return undefined;
  }
}
