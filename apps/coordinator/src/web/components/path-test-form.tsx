/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView } from "@lg/protocol";
import { ProtocolField } from "./fields";
import type { FieldError } from "./form-page";

export interface PathTestFormValues {
  a: string;
  b: string;
  protocol: string;
  count: string;
}

const FIELDS = ["a", "b", "protocol", "count"] as const;

/**
 * Both directions between two agents (`POST /p`, the same schema and service as
 * `POST /api/v1/path-tests`). Errors come back beside their field.
 */
export function PathTestForm(props: {
  agents: AgentView[];
  values?: PathTestFormValues;
  error?: FieldError | null;
}) {
  const online = props.agents.filter((a) => a.online && a.role !== "join");
  const v = props.values ?? { a: online[0]?.id ?? "", b: online[1]?.id ?? "", protocol: "icmp", count: "10" };
  const err = props.error;
  const bad = FIELDS.find((f) => f === err?.field?.split(".")[0]);
  const errorText = (f: (typeof FIELDS)[number]) =>
    bad === f ? (
      <p class="field-error" id={`pt-${f}-error`} role="alert">
        {err?.message}
      </p>
    ) : null;
  const select = (name: "a" | "b", label: string) => (
    <div class={`field${bad === name ? " has-error" : ""}`}>
      <label for={`pt-${name}`}>{label}</label>
      <select id={`pt-${name}`} name={name} aria-invalid={bad === name ? "true" : undefined}>
        {online.map((a) => (
          <option value={a.id} selected={v[name] === a.id}>
            {`${a.id} (${a.region})`}
          </option>
        ))}
      </select>
      {errorText(name)}
    </div>
  );
  return (
    <section class="card" id="path-test" aria-labelledby="pt-title">
      <h2 id="pt-title">Both directions between two PoPs</h2>
      <p class="hint">
        A path test traces A → B and B → A at the same time and reads them together: which routers both
        directions share, where they part, and which direction has the problem.
      </p>
      {err && !bad ? (
        <p class="banner banner-problem" role="alert">
          {err.message}
        </p>
      ) : null}
      <form class="measure" method="post" action="/p" novalidate>
        <div class="row">
          {select("a", "A")}
          {select("b", "B")}
          <ProtocolField value={v.protocol} invalid={bad === "protocol"}>
            {errorText("protocol")}
          </ProtocolField>
          <div class={`field${bad === "count" ? " has-error" : ""}`}>
            <label for="pt-count">Packets</label>
            <input
              id="pt-count"
              name="count"
              type="number"
              inputmode="numeric"
              min="1"
              max="300"
              value={v.count}
            />
            {errorText("count")}
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Test both directions
          </button>
        </div>
      </form>
    </section>
  );
}
