import fs from "node:fs";
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

/**
 * The agent's NATS creds file, read on every (re)connect so rotated credentials are picked up.
 * It keeps the user JWT (sent with presence) and makes the role its tags name the descriptor's:
 * the coordinator decides the role from the credentials, so the agent announces that one, warning
 * once when `LG_ROLE` said otherwise.
 *
 * @example
 * const creds = new AgentCredentials(file, descriptor, { roleGiven, warn });
 * connect({ authenticator: credsAuthenticator(() => creds.read()) });
 */
export class AgentCredentials {
  private jwt: string | undefined;
  private warned = false;

  constructor(
    private readonly file: string,
    /** Its `role` is replaced by the credentials' role. */
    private readonly descriptor: { role: AgentRole },
    private readonly opts: {
      /** LG_ROLE was set, so a different role in the credentials deserves a warning. */
      roleGiven?: boolean;
      warn: (fields: { configured: AgentRole; credential: AgentRole }, message: string) => void;
      readFile?: (file: string) => Uint8Array;
    },
  ) {}

  /** The user JWT last read (its public half; the seed stays in the file). */
  get userJwt(): string | undefined {
    return this.jwt;
  }

  /** Reads the file (throws when it cannot) and returns its bytes for the authenticator. */
  read(): Uint8Array {
    const creds = (this.opts.readFile ?? fs.readFileSync)(this.file);
    this.jwt = userJwtOf(creds);
    const credentialRole = this.jwt ? roleOfUserJwt(this.jwt) : undefined;
    if (credentialRole && credentialRole !== this.descriptor.role) {
      if (this.opts.roleGiven && !this.warned) {
        this.opts.warn(
          { configured: this.descriptor.role, credential: credentialRole },
          "LG_ROLE differs from the role in the NATS credentials; the credentials decide",
        );
        this.warned = true;
      }
      this.descriptor.role = credentialRole;
    }
    return creds;
  }
}
