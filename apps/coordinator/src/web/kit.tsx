/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView } from "@lg/protocol";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "../errors";
import type { AppDeps } from "../http/app";
import { agentView } from "../measurements/views";
import type { PathTestService } from "../path-tests/service";
import { MessagePage } from "./pages";

/** What the pages read: the API's own dependencies, plus the services the app builds from them. */
export type WebDeps = AppDeps & { pathTests?: PathTestService };

/** Answers with a rendered page (JSX escapes everything it prints). */
export const html = (c: Context, node: unknown, status: ContentfulStatusCode = 200) =>
  c.html(String(node), status);

/** The agents by id, as the agents API shows them; none when the database does not answer. */
export async function agentsById(deps: Pick<WebDeps, "repo">): Promise<Map<string, AgentView>> {
  const rows = await deps.repo.listAgents().catch(() => []);
  return new Map(rows.map((r) => [r.id, agentView(r)]));
}

/** The agents as a list (the forms' PoP choices). */
export const agentList = async (deps: Pick<WebDeps, "repo">): Promise<AgentView[]> => [
  ...(await agentsById(deps)).values(),
];

/**
 * Loads what a permalink shows, or answers with a page that says why not: `missing` as the title
 * of a 404, `unavailable` for any other API error (503 when the database does not answer), the
 * error's message as the text.
 *
 * @example
 *   const found = await viewOr(c, () => pathTests.get(id), { missing: "No such path test", unavailable: "…" });
 *   if (found instanceof Response) return found;
 */
export async function viewOr<T>(
  c: Context,
  load: () => Promise<T>,
  titles: { missing: string; unavailable: string },
): Promise<T | Response> {
  try {
    return await load();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const title = err.status === 404 ? titles.missing : titles.unavailable;
    return html(c, <MessagePage title={title}>{<p>{err.message}</p>}</MessagePage>, err.status);
  }
}

/** The 503 page of an operator page whose database reads failed (logged as `<page>: …`). */
export function databaseDownPage(
  c: Context,
  deps: Pick<WebDeps, "logger">,
  err: unknown,
  page: string,
  title: string,
): Response | Promise<Response> {
  deps.logger.error({ err }, `${page}: the database did not answer`);
  return html(
    c,
    <MessagePage title={title}>
      <p>The database did not answer; try again shortly.</p>
    </MessagePage>,
    503,
  );
}
