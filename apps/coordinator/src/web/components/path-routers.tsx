/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { ANSWERS_WORDS, evidenceTally, type RouterRow } from "@lg/analysis";
import type {
  FollowUp,
  IdentityEvidence,
  LossReading,
  LossStretch,
  SegmentHop,
  TraceView,
} from "@lg/protocol";
import { ms, pct } from "../format";

/** The two ends' names, A (the forward trace's source) and B. */
export interface Ends {
  a: string;
  b: string;
}

const there = (e: Ends) => `${e.a} → ${e.b}`;
const back = (e: Ends) => `${e.b} → ${e.a}`;

/** "99%": a 0-1 confidence for people. */
export const sure = (confidence: number) => `${Math.round(confidence * 100)}%`;

/** What a line's router is, in words: shared, one direction's own, not identified, an end, silent. */
export function placeWords(row: RouterRow, ends: Ends): string {
  const side = row.forward ? there(ends) : back(ends);
  switch (row.place) {
    case "shared":
      return "both directions";
    case "own":
      return `only ${side}`;
    case "unknown":
      return `only seen ${side}: not identified on the other side`;
    case "endpoint":
      return row.forward
        ? `${ends.b} itself (the way there's destination)`
        : `${ends.a} itself (the way back's destination)`;
    case "silent":
      return "no reply: cannot be told";
  }
}

/** How sure the line's placement is, in words ("" when nothing was measured). */
export function confidenceWords(row: RouterRow, ends: Ends): string {
  const r = row.router;
  if (!r) return "";
  if (row.place === "shared") return `${sure(r.confidence)} sure it is one router`;
  if (row.place === "own")
    return `${sure(r.confidence)} sure it is not on ${row.forward ? back(ends) : there(ends)}`;
  return r.confidence > 0 ? `${sure(r.confidence)}` : "no test could tell";
}

/** One line of evidence: "link-mate (agrees): …". */
const evidenceLine = (e: IdentityEvidence) => `${e.test} (${e.agrees ? "agrees" : "against"}): ${e.detail}`;

/** A router's whole case as plain text, for a hover. */
export function evidenceTitle(row: RouterRow, ends: Ends): string {
  const r = row.router;
  if (!r) return placeWords(row, ends);
  const lines = [
    `${placeWords(row, ends)}${confidenceWords(row, ends) ? `, ${confidenceWords(row, ends)}` : ""}`,
    r.hidden ? "addresses: hidden by the operator" : `addresses: ${r.addresses.join(", ")}`,
    ...(row.place === "shared" ? [ANSWERS_WORDS[r.answers]] : []),
    ...r.evidence.map(evidenceLine),
  ];
  return lines.join("\n");
}

function HopCell(props: { hop: SegmentHop | null; other: string }) {
  const h = props.hop;
  if (!h) return <td class="c-side c-none muted">— not on {props.other}</td>;
  return (
    <td class="c-side">
      <span class="cmp-ttl">{h.ttl}.</span>
      {h.address ? (
        <>
          {h.name && h.name !== h.address ? <span class="name">{h.name}</span> : null}
          <span class="addr">{h.address}</span>
        </>
      ) : h.hidden ? (
        <span
          class="hidden-hop"
          title="This PoP's own infrastructure: the operator hides its addresses from the public"
        >
          hidden by the operator
        </span>
      ) : (
        <span class="silent">???</span>
      )}{" "}
      <span class={h.lossPct > 0 ? "lossy" : "muted"}>{pct(h.lossPct)}</span>
    </td>
  );
}

function EvidenceCell(props: { row: RouterRow; ends: Ends }) {
  const { row, ends } = props;
  const r = row.router;
  if (!r) return <td class="c-evidence muted">—</td>;
  const confidence = confidenceWords(row, ends);
  const tally = evidenceTally(r.evidence);
  return (
    <td class="c-evidence">
      <details>
        <summary>
          {tally ? (
            <>
              {tally}
              {confidence ? <span class="muted"> · {confidence}</span> : null}
            </>
          ) : (
            confidence || "no test"
          )}
        </summary>
        <ul class="evidence">
          <li>
            <span class="ev-test">addresses</span> {r.addresses.join(", ")}
          </li>
          {row.place === "shared" ? (
            <li>
              <span class="ev-test">answers</span> {ANSWERS_WORDS[r.answers]}
            </li>
          ) : null}
          {r.evidence.map((e) => (
            <li class={e.agrees ? "ev-agrees" : "ev-against"}>
              <span class="ev-test">{e.test}</span>{" "}
              <span class="ev-verdict">{e.agrees ? "agrees" : "against"}</span>: {e.detail}
            </li>
          ))}
          {r.evidence.length === 0 ? (
            <li class="muted">
              No test said anything about it: no alias trace reached it from the other end.
            </li>
          ) : null}
        </ul>
      </details>
    </td>
  );
}

/**
 * One segment's routers side by side: a router both directions cross on one line with both of its
 * addresses and TTLs; a router one direction crosses alone on a line of its own, marked as that
 * direction's own or as not identified on the other side; the evidence behind each on a hover and
 * in a line that opens.
 */
export function RouterTable(props: { rows: RouterRow[]; ends: Ends; caption: string }) {
  const { ends } = props;
  return (
    <div class="table-scroll">
      <table class="routers">
        <caption class="segment-label">{props.caption}</caption>
        <colgroup>
          <col class="col-side" />
          <col class="col-side" />
          <col class="col-place" />
          <col class="col-evidence" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">There: {there(ends)}</th>
            <th scope="col">Back: {back(ends)}</th>
            <th scope="col">Router</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr
              class={`router-row place-${row.place}`}
              data-router={row.router?.id}
              title={evidenceTitle(row, ends)}
            >
              <HopCell hop={row.forward} other={there(ends)} />
              <HopCell hop={row.reverse} other={back(ends)} />
              <td class="c-place">
                <span class={`place place-mark-${row.place}`}>{placeWords(row, ends)}</span>
              </td>
              <EvidenceCell row={row} ends={ends} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "hop 2 (198.18.5.2)", or the direction's source. */
function stretchEnd(ttl: number | null, address: string | null, source: string): string {
  return ttl === null ? `its source (${source})` : `hop ${ttl} (${address ?? "no reply"})`;
}

export function stretchWords(s: LossStretch, ends: Ends): string {
  const source = s.direction === "forward" ? ends.a : ends.b;
  return `between ${stretchEnd(s.fromTtl, s.fromAddress, source)} and ${stretchEnd(s.toTtl, s.toAddress, source)}`;
}

/** The loss reading's headline, in words. */
export function readingWords(loss: LossReading, ends: Ends): string {
  switch (loss.reading) {
    case "forward":
      return `The loss is on the way there (${there(ends)}); what the way back's trace loses is its replies crossing it.`;
    case "reverse":
      return `The loss is on the way back (${back(ends)}); what the way there's trace loses is its replies crossing it.`;
    case "both":
      return "Both directions lose packets, each on a stretch of its own.";
    case "undetermined":
      return "A direction loses packets, and the evidence cannot tell which. A trace's replies come back over the other direction, so each trace's loss may be its own or its replies' way back; probes whose replies come back over one direction only (alias traces from each end) would tell.";
  }
}

/**
 * Which direction loses, between which hops, how much one way, and the probe series that decided it.
 */
export function LossReadingCard(props: { loss: LossReading; ends: Ends; id: string }) {
  const { loss, ends } = props;
  const title = `loss-reading-${props.id}`;
  return (
    <section class={`card loss-reading loss-${loss.reading}`} aria-labelledby={title}>
      <h2 id={title} class="card-title">
        Where the loss is
      </h2>
      <p class="loss-headline">
        <strong>{readingWords(loss, ends)}</strong>
      </p>
      {loss.stretches.length > 0 ? (
        <div class="table-scroll">
          <table class="loss-stretches">
            <thead>
              <tr>
                <th scope="col">Direction</th>
                <th scope="col">Where</th>
                <th scope="col" class="c-num">
                  One-way loss
                </th>
              </tr>
            </thead>
            <tbody>
              {loss.stretches.map((s) => (
                <tr>
                  <td>{s.direction === "forward" ? `there: ${there(ends)}` : `back: ${back(ends)}`}</td>
                  <td>{stretchWords(s, ends)}</td>
                  <td class="c-num lossy">{pct(s.lossPct)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p class="loss-evidence">
        <span class="ev-test">How it was read:</span> {loss.evidence}
        {loss.reading !== "undetermined" ? (
          <span class="muted"> (log-likelihood ratio {loss.support.toFixed(1)} over the next reading)</span>
        ) : null}
      </p>
    </section>
  );
}

const FOLLOW_UP_WORDS: Record<FollowUp["kind"], string> = {
  "alias-trace": "alias trace",
  retrace: "trace again",
  "tcp-syn": "TCP SYN",
  udp: "UDP",
  echo: "ICMP echo",
};

/** What a follow-up showed, in words. */
export function followUpResult(f: FollowUp): string {
  const base = f.result ?? (f.answered ? "answered" : "no answer");
  return f.rtt !== undefined && !base.includes(" ms") ? `${base}; best ${ms(f.rtt)} ms` : base;
}

/** The probes a trace's end sent on its own to decide what the two traces left open. */
export function FollowUpTable(props: { trace: TraceView; label: string }) {
  const list = props.trace.followUps ?? [];
  if (list.length === 0) return null;
  const id = `follow-ups-${props.trace.id}`;
  return (
    <section class="card follow-ups" aria-labelledby={id}>
      <h3 id={id} class="card-title">
        Follow-up probes from {props.label} ({list.length})
      </h3>
      <div class="table-scroll">
        <table class="follow-up-table">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Target</th>
              <th scope="col">Result</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr class={f.answered ? "fu-answered" : "fu-silent"}>
                <td>{FOLLOW_UP_WORDS[f.kind]}</td>
                <td class="addr">
                  {f.target}
                  {f.port !== undefined ? `:${f.port}` : ""}
                </td>
                <td>{followUpResult(f)}</td>
                <td class="muted">{f.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
