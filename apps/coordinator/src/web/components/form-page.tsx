/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView } from "@lg/protocol";
import type { FormValues } from "../form-input";
import { ProtocolField } from "./fields";
import { Layout } from "./layout";
import { PathTestForm, type PathTestFormValues } from "./path-test-form";

export interface FieldError {
  code: string;
  message: string;
  field?: string;
}

export interface FormPageProps {
  agents: AgentView[];
  values?: FormValues;
  error?: FieldError | null;
  /** Offer the path test form too (when the coordinator runs path tests), with its own values and error. */
  pathTest?: { values?: PathTestFormValues; error?: FieldError | null } | undefined;
}

const FORM_FIELDS = ["target", "from", "protocol", "port", "ipVersion", "count"] as const;
type FormField = (typeof FORM_FIELDS)[number];

/** The form field an API error belongs to (`from.2` belongs to `from`), or undefined for a page-level error. */
export function errorField(error: FieldError | null | undefined): FormField | undefined {
  const head = error?.field?.split(".")[0];
  return FORM_FIELDS.find((f) => f === head);
}

function ErrorText(props: { id: string; error: FieldError | null | undefined; field: FormField }) {
  if (errorField(props.error) !== props.field) return null;
  return (
    <p class="field-error" id={props.id} role="alert">
      {props.error?.message}
    </p>
  );
}

const DEFAULTS: FormValues = {
  target: "",
  from: [],
  protocol: "icmp",
  port: "",
  ipVersion: "auto",
  count: "10",
};

/** `/`: the public form. Works as a plain HTML form POST; errors come back beside their field. */
export function FormPage(props: FormPageProps) {
  const v = props.values ?? DEFAULTS;
  const err = props.error;
  const bad = errorField(err);
  const pops = props.agents.filter((a) => a.role === "pop");
  const regions = [...new Set(pops.map((a) => a.region))].sort();
  // First visit: every online PoP ticked. After an error: exactly what was sent.
  const ticked = (a: AgentView) => (props.values ? v.from.includes(a.id) : a.online);
  const invalid = (f: FormField) => (bad === f ? "true" : undefined);
  const describedBy = (f: FormField, hint?: string) =>
    [hint, bad === f ? `${f}-error` : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <Layout title="Trace a route" current="/">
      <section class="intro">
        <h1>Where does the path break?</h1>
        <p class="lede">
          Trace the route to any allowed address from our points of presence at once — live, hop by hop, with
          a plain-words reading of what the numbers mean.
        </p>
      </section>
      {err && !bad ? (
        <p class="banner banner-problem" role="alert">
          {err.message}
        </p>
      ) : null}
      <form class="measure card" method="post" action="/" novalidate>
        <div class={`field field-target${bad === "target" ? " has-error" : ""}`}>
          <label for="target">Target</label>
          <input
            id="target"
            name="target"
            type="text"
            value={v.target}
            placeholder="hostname, IPv4 or IPv6 address"
            autocomplete="off"
            spellcheck={false}
            autofocus
            required
            aria-invalid={invalid("target")}
            aria-describedby={describedBy("target")}
          />
          <ErrorText id="target-error" error={err} field="target" />
        </div>

        <fieldset
          class={`field pops${bad === "from" ? " has-error" : ""}`}
          aria-describedby={describedBy("from", "from-hint")}
        >
          <legend>From</legend>
          <p class="hint" id="from-hint">
            Tick the PoPs to trace from; with none ticked, every online PoP traces.
          </p>
          {pops.length === 0 ? <p class="muted">No PoP has registered yet.</p> : null}
          {regions.map((region) => (
            <div class="region">
              <h3 class="region-name">{region}</h3>
              <ul class="pop-list">
                {pops
                  .filter((a) => a.region === region)
                  .map((a) => (
                    <li>
                      <label class={`pop-choice${a.online ? "" : " offline"}`}>
                        <input
                          type="checkbox"
                          name="from"
                          value={a.id}
                          checked={ticked(a)}
                          disabled={!a.online}
                        />
                        <span class={`dot ${a.online ? "dot-on" : "dot-off"}`} aria-hidden="true" />
                        <span class="pop-id">{a.id}</span>
                        {a.location?.city ? <span class="pop-place">{a.location.city}</span> : null}
                        <span class="pop-state">{a.online ? "online" : "offline"}</span>
                      </label>
                    </li>
                  ))}
              </ul>
            </div>
          ))}
          <ErrorText id="from-error" error={err} field="from" />
        </fieldset>

        <div class="row">
          <ProtocolField value={v.protocol} invalid={bad === "protocol"}>
            <ErrorText id="protocol-error" error={err} field="protocol" />
          </ProtocolField>

          <div class={`field field-port${bad === "port" ? " has-error" : ""}`}>
            <label for="port">Port</label>
            <input
              id="port"
              name="port"
              type="number"
              inputmode="numeric"
              min="1"
              max="65535"
              value={v.port}
              placeholder="UDP/TCP"
              aria-invalid={invalid("port")}
              aria-describedby={describedBy("port", "port-hint")}
            />
            <p class="hint" id="port-hint">
              For UDP and TCP only.
            </p>
            <ErrorText id="port-error" error={err} field="port" />
          </div>

          <fieldset class={`field${bad === "ipVersion" ? " has-error" : ""}`}>
            <legend>IP version</legend>
            <div class="segmented">
              {[
                ["auto", "Auto"],
                ["4", "IPv4"],
                ["6", "IPv6"],
              ].map(([value, label]) => (
                <label>
                  <input
                    type="radio"
                    name="ipVersion"
                    value={value}
                    checked={(v.ipVersion || "auto") === value}
                  />
                  <span>{label}</span>
                </label>
              ))}
            </div>
            <ErrorText id="ipVersion-error" error={err} field="ipVersion" />
          </fieldset>

          <div class={`field field-count${bad === "count" ? " has-error" : ""}`}>
            <label for="count">Packets</label>
            <input
              id="count"
              name="count"
              type="number"
              inputmode="numeric"
              min="1"
              max="300"
              value={v.count}
              aria-invalid={invalid("count")}
              aria-describedby={describedBy("count", "count-hint")}
            />
            <p class="hint" id="count-hint">
              Probes per hop, one per second.
            </p>
            <ErrorText id="count-error" error={err} field="count" />
          </div>
        </div>

        <div class="actions">
          <button type="submit" class="primary">
            Trace
          </button>
        </div>
      </form>
      {props.pathTest ? (
        <PathTestForm agents={props.agents} values={props.pathTest.values} error={props.pathTest.error} />
      ) : null}
    </Layout>
  );
}
