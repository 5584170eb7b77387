/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";

/**
 * The probe-protocol choice every form offers (ICMP, UDP, TCP), with the form's own error line as
 * its child: each form words and places its errors its own way.
 */
export function ProtocolField(props: { value: string | undefined; invalid: boolean; children?: Child }) {
  return (
    <fieldset class={`field${props.invalid ? " has-error" : ""}`}>
      <legend>Protocol</legend>
      <div class="segmented">
        {(["icmp", "udp", "tcp"] as const).map((p) => (
          <label>
            <input type="radio" name="protocol" value={p} checked={props.value === p} />
            <span>{p.toUpperCase()}</span>
          </label>
        ))}
      </div>
      {props.children}
    </fieldset>
  );
}
