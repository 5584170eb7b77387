import { ApiErrorBody } from "@lg/protocol";
import { createParser } from "eventsource-parser";
import type { z } from "zod";
import type { CliConfig } from "./config";
import { CliError } from "./errors";

/** One server-sent event of an `…/events` stream. */
export interface ApiEvent {
  event: string | undefined;
  data: string;
}

/**
 * The coordinator's HTTP API as the CLI uses it: the key from LG_API_KEY on every request, and
 * every failure (unreachable, an error answer, a body of the wrong shape) as one CliError line.
 *
 *   const api = createApiClient(loadCliConfig());
 *   const agents = await api.get("/api/v1/agents", z.array(AgentView));
 */
export interface ApiClient {
  /** The coordinator's URL, without a trailing slash. */
  readonly base: string;
  /** Any request; resolves only with a 2xx answer. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** GET, the answer checked against `schema`. */
  get<T>(path: string, schema: z.ZodType<T>): Promise<T>;
  /** POST a JSON body, the answer checked against `schema`. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T>;
  /** The events of a server-sent event stream, in order, until the server ends it. */
  events(path: string): AsyncGenerator<ApiEvent>;
}

export function createApiClient(config: Pick<CliConfig, "apiUrl" | "apiKey">): ApiClient {
  const base = config.apiUrl;
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (config.apiKey) headers.set("authorization", `Bearer ${config.apiKey}`);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { ...init, headers });
    } catch (err) {
      throw new CliError(
        `cannot reach the coordinator at ${base} (${networkReason(err)}); start one with \`lg up\` or set LG_API_URL`,
        1,
        { cause: err },
      );
    }
    if (!res.ok) {
      const parsed = ApiErrorBody.safeParse(await res.json().catch(() => null));
      if (parsed.success) {
        const e = parsed.data.error;
        throw new CliError(`${e.message} (${e.code}${e.field ? `, field ${e.field}` : ""})`);
      }
      throw new CliError(`the coordinator answered HTTP ${res.status} to ${path}`);
    }
    return res;
  };
  const parse = async <T>(res: Response, path: string, schema: z.ZodType<T>): Promise<T> => {
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new CliError(`the coordinator's answer to ${path} is not what lg expects`);
    return parsed.data;
  };
  return {
    base,
    request,
    get: async (path, schema) => parse(await request(path), path, schema),
    post: async (path, body, schema) =>
      parse(
        await request(path, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        path,
        schema,
      ),
    async *events(path) {
      const res = await request(path, { headers: { accept: "text/event-stream" } });
      if (!res.body) throw new CliError("the coordinator sent no event stream");
      const queue: ApiEvent[] = [];
      const parser = createParser({ onEvent: (e) => queue.push({ event: e.event, data: e.data }) });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        while (queue.length > 0) yield queue.shift() as ApiEvent;
      }
    },
  };
}

/** The innermost error code of a failed fetch (ECONNREFUSED, ENOTFOUND…), else its message. */
function networkReason(err: unknown): string {
  let cause: unknown = err;
  while ((cause as { cause?: unknown }).cause && !(cause as { code?: string }).code)
    cause = (cause as { cause: unknown }).cause;
  return (cause as { code?: string }).code ?? (cause as Error).message;
}
