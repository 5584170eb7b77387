/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, ReverseSessionView } from "@lg/protocol";
import { Layout } from "../web/components/layout";
import { endpointLabel, PathTestBody } from "../web/components/path-test";
import { shQuote } from "./script";

/** The systems the page has a command for. */
export type CustomerSystem = "linux" | "macos" | "windows";

/** The customer's system from its browser's User-Agent; undefined when it does not say. */
export function systemOf(userAgent: string | undefined): CustomerSystem | undefined {
  const ua = userAgent ?? "";
  if (/Windows/i.test(ua)) return "windows";
  if (/Macintosh|Mac OS X/i.test(ua)) return "macos";
  if (/Linux|X11|CrOS/i.test(ua) && !/Android/i.test(ua)) return "linux";
  return undefined;
}

export interface CustomerPageProps {
  session: ReverseSessionView;
  agents: Map<string, AgentView>;
  /** The address the customer's own tool traces (the server's agent, or the neutral one). */
  target: string | null;
  /** This page's URL with the token (the start button posts to it). */
  customerUrl: string;
  uploadUrl: string;
  /** The `lg join` one-liner, for customers who can run it. */
  joinCommand: string;
  /** The session's probe count and pace: the customer's tool should send as many. */
  options: { count: number; interval: number };
  /** The system to show first, from the User-Agent. */
  system?: CustomerSystem | undefined;
  /** An upload or start that was refused, said again beside the form. */
  error?: { code: string; message: string } | undefined;
}

/**
 * The mtr command for Linux and macOS: the wide report with names and addresses (`-b`), the session's
 * probe count, piped straight into the upload. mtr refuses an interval under 1 s to a non-root user.
 */
export function mtrCommand(
  target: string,
  options: { count: number; interval: number },
  uploadUrl: string,
  sudo = false,
): string {
  const interval = Math.max(1, options.interval);
  const pace = interval === 1 ? "" : ` -i ${interval}`;
  return `${sudo ? "sudo " : ""}mtr -r -w -b -c ${options.count}${pace} ${target} | curl -fsS --data-binary @- ${shQuote(uploadUrl)}`;
}

function Command(props: { text: string; label: string }) {
  return (
    <code class="command" data-role="command" title={props.label}>
      {props.text}
    </code>
  );
}

/** The one command (or the few steps) for each system, aimed at the session's target. */
function SystemSteps(props: {
  system: CustomerSystem;
  target: string;
  options: { count: number; interval: number };
  uploadUrl: string;
}) {
  const { target, options, uploadUrl } = props;
  if (props.system === "windows")
    return (
      <ol>
        <li>
          Open <strong>WinMTR</strong> (from <a href="https://sourceforge.net/projects/winmtr/">winmtr</a>; it
          needs no install).
        </li>
        <li>
          Type <code class="addr">{target}</code> as <em>Host</em> and press <em>Start</em>.
        </li>
        <li>
          When <em>Sent</em> reaches {options.count} or more, press <em>Stop</em>, then <em>Export TEXT</em>{" "}
          (or
          <em> Export HTML</em>) and send the file below — or <em>Copy Text to clipboard</em> and paste it.
        </li>
      </ol>
    );
  const sudo = props.system === "macos";
  return (
    <>
      <p>Run this in a terminal; it traces the way to us and sends the result here:</p>
      <Command text={mtrCommand(target, options, uploadUrl, sudo)} label={`mtr on ${props.system}`} />
      <p class="hint">
        {sudo
          ? "Homebrew's mtr needs sudo (brew install mtr). "
          : "mtr comes with most distributions (Debian/Ubuntu: apt-get install mtr-tiny). "}
        Rather keep the file?{" "}
        <code>
          mtr --json -c {String(options.count)} {target} &gt; mtr.json
        </code>{" "}
        and send it below; mtr's report (<code>-r</code>, <code>-r -w</code>), CSV (<code>-C</code>) and XML (
        <code>--xml</code>) are read too.
      </p>
    </>
  );
}

const SYSTEM_NAMES: Record<CustomerSystem, string> = {
  linux: "Linux",
  macos: "macOS",
  windows: "Windows (WinMTR)",
};

/**
 * `customerUrl`: what the customer behind NAT sees. Nothing to install: the start button has our
 * side trace back to its address, and its own tool's output — mtr on Linux and macOS, WinMTR on
 * Windows — is pasted or uploaded. Everything shown is escaped by JSX; the page carries the
 * session's token in its forms, so the route answers it `no-store` and with no referrer.
 */
export function CustomerPage(props: CustomerPageProps) {
  const s = props.session;
  const final = s.status === "done" || s.status === "expired";
  const started = s.status === "running" || s.status === "done";
  const byLink = !s.customer.agentId;
  const uploaded = !!s.customer.uploadTraceId && s.legs.every((l) => l.forward.status !== "queued");
  const systems: CustomerSystem[] = ["linux", "macos", "windows"];
  const first = props.system ?? "linux";
  const options = props.options;
  return (
    <Layout title={`Test your connection to ${endpointLabel(s.server)}`} live={!final}>
      <div
        class="reverse customer"
        data-reverse-session={s.id}
        data-status={final ? "done" : s.status}
        data-live-poll={final ? undefined : `/api/v1/reverse-sessions/${encodeURIComponent(s.id)}`}
      >
        <section class="m-head">
          <h1>
            <span class="muted">Test your connection to</span>{" "}
            <span class="m-target">{endpointLabel(s.server)}</span>
          </h1>
          <p class="m-meta">
            {s.customer.publicAddress ? (
              <>
                We see you as <span class="addr">{s.customer.publicAddress}</span>.{" "}
              </>
            ) : null}
            This link works until {s.expiresAt.replace("T", " ").slice(0, 16)} UTC; nothing to install.
          </p>
        </section>
        {props.error ? (
          <p class="banner banner-problem" role="alert" data-error-code={props.error.code}>
            {props.error.message}
          </p>
        ) : null}
        {s.status === "expired" ? (
          <p class="banner banner-pending">This test has expired. Ask for a new link to try again.</p>
        ) : null}
        {!byLink ? (
          <p class="banner banner-clean">
            This test runs with lg join on your machine; nothing more to do here.
          </p>
        ) : null}
        {byLink && !final ? (
          <section class="card">
            <h2>1. Let us trace the way back to you</h2>
            {started ? (
              <p data-role="started">
                We are tracing from our side to <span class="addr">{s.customer.publicAddress}</span>.
              </p>
            ) : (
              <form method="post" action={props.customerUrl}>
                <p>Press start from the network you have trouble with; we trace from our side back to you.</p>
                <button type="submit" class="primary">
                  Start
                </button>
              </form>
            )}
          </section>
        ) : null}
        {byLink && !final && !uploaded ? (
          <section class="card">
            <h2>2. Trace the way to us, and send it</h2>
            {props.target ? (
              <>
                <h3>{SYSTEM_NAMES[first]}</h3>
                <SystemSteps
                  system={first}
                  target={props.target}
                  options={options}
                  uploadUrl={props.uploadUrl}
                />
                <details>
                  <summary>Another system, or lg itself</summary>
                  {systems
                    .filter((x) => x !== first)
                    .map((x) => (
                      <>
                        <h3>{SYSTEM_NAMES[x]}</h3>
                        <SystemSteps
                          system={x}
                          target={props.target as string}
                          options={options}
                          uploadUrl={props.uploadUrl}
                        />
                      </>
                    ))}
                  <h3>lg join (Linux with mtr; runs both directions itself)</h3>
                  <Command text={props.joinCommand} label="lg join" />
                </details>
              </>
            ) : (
              <p class="muted">The server's agent is offline right now; reload this page in a minute.</p>
            )}
            <form method="post" action={props.uploadUrl} enctype="multipart/form-data" class="upload">
              <div class="field">
                <label for="report">Paste the output</label>
                <textarea id="report" name="report" rows={8} spellcheck={false} />
              </div>
              <div class="field">
                <label for="file">or choose the file</label>
                <input id="file" name="file" type="file" accept=".txt,.json,.csv,.xml,.htm,.html,text/*" />
              </div>
              <div class="actions">
                <button type="submit" class="primary">
                  Send
                </button>
              </div>
            </form>
          </section>
        ) : null}
        {uploaded && !final ? (
          <p class="banner banner-clean" data-role="uploaded">
            Thank you: we have your trace{started ? "" : "; press start above so we trace the way back"}.
          </p>
        ) : null}
        {s.legs.map((leg, i) => (
          <section class="leg">
            <PathTestBody
              test={leg}
              agents={props.agents}
              heading={s.legs.length > 1 ? `Leg ${i + 1}` : "Both directions"}
            />
          </section>
        ))}
      </div>
    </Layout>
  );
}

/** A refused link (wrong token, no such session, expired), as a page for a person. */
export function CustomerLinkRefused(props: { message: string }) {
  return (
    <Layout title="Reverse test">
      <section class="intro">
        <h1>This link cannot be used</h1>
        <p class="banner banner-problem" role="alert">
          {props.message}
        </p>
      </section>
    </Layout>
  );
}
