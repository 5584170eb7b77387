/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, ReverseSessionView } from "@lg/protocol";
import { ProtocolField } from "./fields";
import type { FieldError } from "./form-page";
import { Layout } from "./layout";
import { endpointLabel, PathTestBody } from "./path-test";

/** The reverse-session form as typed, to show it again next to an error. */
export interface ReverseFormValues {
  serverAgent: string;
  serverHost: string;
  via: string;
  protocol: string;
  count: string;
}

const REVERSE_FIELDS = ["server", "via", "protocol", "count"] as const;

function reverseErrorField(error: FieldError | null | undefined) {
  const head = error?.field?.split(".")[0];
  return REVERSE_FIELDS.find((f) => f === head);
}

function ErrorText(props: { error: FieldError | null | undefined; field: (typeof REVERSE_FIELDS)[number] }) {
  if (reverseErrorField(props.error) !== props.field) return null;
  return (
    <p class="field-error" id={`${props.field}-error`} role="alert">
      {props.error?.message}
    </p>
  );
}

/** `/r/new`: start a reverse test for a customer behind NAT. */
export function ReverseNewPage(props: {
  agents: AgentView[];
  values?: ReverseFormValues;
  error?: FieldError | null;
}) {
  const v = props.values ?? { serverAgent: "", serverHost: "", via: "", protocol: "icmp", count: "10" };
  const err = props.error;
  const bad = reverseErrorField(err);
  const pops = props.agents.filter((a) => a.role === "pop" && a.online);
  const neutral = props.agents.filter((a) => a.role === "neutral" && a.online);
  return (
    <Layout title="Reverse test" current="/r/new">
      <section class="intro">
        <h1>Test both directions with a customer behind NAT</h1>
        <p class="lede">
          Create a session, send the customer the one command it shows, and watch both directions — customer
          to server and back — traced at the same time. The page updates itself when they join.
        </p>
      </section>
      {err && !bad ? (
        <p class="banner banner-problem" role="alert">
          {err.message}
        </p>
      ) : null}
      <form class="measure card" method="post" action="/r/new" novalidate>
        <fieldset class={`field${bad === "server" ? " has-error" : ""}`}>
          <legend>Server the customer has trouble reaching</legend>
          <div class="row">
            <div>
              <label for="serverAgent">A PoP</label>
              <select id="serverAgent" name="serverAgent">
                <option value="">— choose —</option>
                {pops.map((a) => (
                  <option value={a.id} selected={v.serverAgent === a.id}>
                    {`${a.id} (${a.region})`}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="serverHost">or a host without an agent</label>
              <input
                id="serverHost"
                name="serverHost"
                type="text"
                value={v.serverHost}
                placeholder="address or name"
              />
            </div>
          </div>
          <ErrorText error={err} field="server" />
        </fieldset>
        <div class={`field${bad === "via" ? " has-error" : ""}`}>
          <label for="via">Through a neutral agent (for a host without an agent)</label>
          <select id="via" name="via">
            <option value="">— none —</option>
            {neutral.map((a) => (
              <option value={a.id} selected={v.via === a.id}>
                {`${a.id} (${a.region})`}
              </option>
            ))}
          </select>
          <ErrorText error={err} field="via" />
        </div>
        <div class="row">
          <ProtocolField value={v.protocol} invalid={bad === "protocol"}>
            <ErrorText error={err} field="protocol" />
          </ProtocolField>
          <div class={`field${bad === "count" ? " has-error" : ""}`}>
            <label for="count">Packets</label>
            <input id="count" name="count" type="number" min="1" max="300" value={v.count} />
            <ErrorText error={err} field="count" />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Create session
          </button>
        </div>
      </form>
    </Layout>
  );
}

const STATUS_WORDS: Record<ReverseSessionView["status"], string> = {
  waiting: "Waiting for the customer to join",
  joined: "The customer joined",
  running: "Tracing both directions",
  done: "Done",
  expired: "Expired",
};

/** `/r/{id}`: the command to run while waiting, then the legs and their verdicts. */
export function ReverseSessionPage(props: {
  session: ReverseSessionView;
  agents: Map<string, AgentView>;
  /** The one command the customer runs (known to the coordinator, not part of the view). */
  command?: string | undefined;
}) {
  const s = props.session;
  const final = s.status === "done" || s.status === "expired";
  return (
    <Layout title={`Reverse test · ${endpointLabel(s.server)}`} live={!final}>
      <div
        class="reverse"
        data-reverse-session={s.id}
        data-status={final ? "done" : s.status}
        data-live-poll={final ? undefined : `/api/v1/reverse-sessions/${encodeURIComponent(s.id)}`}
        data-live-goto={props.command ? `/r/${encodeURIComponent(s.id)}` : undefined}
      >
        <section class="m-head">
          <h1>
            <span class="muted">Reverse test with</span>{" "}
            <span class="m-target">{endpointLabel(s.server)}</span>
          </h1>
          <p class="m-meta">
            <span class={`status status-${s.status === "expired" ? "failed" : s.status}`}>
              {STATUS_WORDS[s.status]}
            </span>{" "}
            · expires {s.expiresAt.replace("T", " ").slice(0, 16)} UTC
            {s.via ? ` · through ${s.via}` : ""}
          </p>
        </section>
        {s.status === "waiting" ? (
          <section class="card">
            <h2>Ask the customer to run this one command</h2>
            {props.command ? (
              <code class="command" data-role="command">
                {props.command}
              </code>
            ) : (
              <p class="muted">The command was shown when the session was created.</p>
            )}
            {props.command ? (
              <p class="hint">
                Copy it now: it carries the session's key and is shown only once. This session's page is{" "}
                <a href={`/r/${encodeURIComponent(s.id)}`}>{`/r/${s.id}`}</a>.
              </p>
            ) : null}
            <p class="hint">
              It starts a temporary agent on their machine for this session only; it stops on its own when the
              session ends. This page updates itself when they join.
            </p>
          </section>
        ) : null}
        {s.status === "expired" ? (
          <p class="banner banner-pending">
            The session expired before it finished. Create a new one to try again.
          </p>
        ) : null}
        {s.customer.publicAddress ? (
          <p class="banner banner-clean">
            The customer joined from <span class="addr">{s.customer.publicAddress}</span>
            {s.status === "running" || s.status === "joined" ? "; tracing both directions…" : "."}
          </p>
        ) : null}
        {s.legs.map((leg, i) => (
          <section class="leg">
            <PathTestBody test={leg} agents={props.agents} heading={`Leg ${i + 1}`} />
            <p>
              <a href={`/p/${encodeURIComponent(leg.id)}`}>Open this leg as its own path test</a>
            </p>
          </section>
        ))}
      </div>
    </Layout>
  );
}
