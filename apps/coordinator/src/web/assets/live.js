// @ts-check
// Live updates of a page: follows the event streams it names and fills the
// tables in as replies arrive. Everything from the stream is written with textContent (never as
// HTML); a finished trace's section is swapped for the server's own rendering of it.
//
// Rows are not built here: each live section carries a <template data-role="hop-row"> rendered by
// the server's own HopRow (components/trace-section.tsx); a row is a clone of it, with the parts a
// hop has kept and filled. The formats below (ms, pct, asLabel, lossIntervalTitle) are those of
// web/format.ts and HopRow; test/web.browser.test.ts checks a live row against the server's.
//
// The page says what to follow on root elements:
//   data-live-events="/api/.../events"  the event stream (measurements and path tests)
//   data-live-fragment="/m/<id>/trace/" where a finished trace's section is rendered
//   data-live-reload="done"             reload the page once everything is done (verdicts)
//   data-live-map="/m/<id>/map"         once everything is done, swap in the server's map
//   data-live-poll="/api/..."           no stream: poll this view and reload when its status changes
//   data-live-goto="/r/<id>"            ... or go to this permalink instead of reloading
//
// The types are the API's own (zod schemas of @lg/protocol); `tsc -p src/web/assets` checks this file.

/** @typedef {import("@lg/protocol").Hop} Hop */
/** @typedef {import("@lg/protocol").TraceView} TraceView */
/** @typedef {import("@lg/protocol").HopEvent} HopEvent */
/** @typedef {{ best: number, avg: number, worst: number }} Sample */

(() => {
  const POLL_MS = 2000;

  /**
   * No stream: poll the view and reload (or go to the permalink) when its status changes.
   * @param {HTMLElement} root
   */
  function poll(root) {
    const url = root.dataset.livePoll;
    if (!url) return;
    const tick = async () => {
      try {
        const res = await fetch(url, { headers: { accept: "application/json" } });
        if (res.ok && (await res.json()).status !== root.dataset.status) {
          // A page that answered a form post goes to its permalink instead of posting again.
          if (root.dataset.liveGoto) window.location.assign(root.dataset.liveGoto);
          else window.location.reload();
          return;
        }
      } catch {
        // The coordinator may be restarting; try again on the next tick.
      }
      setTimeout(tick, POLL_MS);
    };
    setTimeout(tick, POLL_MS);
  }

  for (const root of document.querySelectorAll("[data-live-poll]"))
    if (root instanceof HTMLElement && root.dataset.status !== "done") poll(root);
  // A page can follow several streams at once (a reverse session's legs).
  const streams = [...document.querySelectorAll("[data-live-events]")].filter(
    /** @returns {r is HTMLElement} */ (r) => r instanceof HTMLElement && r.dataset.status !== "done",
  );
  if (streams.length === 0 || !("EventSource" in window)) return;
  const SVG = "http://www.w3.org/2000/svg";
  /** @type {Map<string, Map<number, Sample[]>>} traceId -> ttl -> samples, for the over-time chart of each hop. */
  const series = new Map();

  /** Milliseconds as mtr prints them (format.ts `ms`). @param {number} n */
  const ms = (n) => n.toFixed(1);
  /** Loss as mtr prints it (format.ts `pct`). @param {number} n */
  const pct = (n) => `${n.toFixed(1)}%`;
  /** `AS64500` or an empty cell (format.ts `asLabel`). @param {Hop} hop */
  const asLabel = (hop) => (hop.asn === undefined ? "" : `AS${hop.asn}`);
  /** The loss cell's hover (trace-section.tsx `lossIntervalTitle`). @param {Hop} hop */
  const lossIntervalTitle = (hop) =>
    hop.lossCi ? `95% interval of Loss%: ${hop.lossCi[0]}–${hop.lossCi[1]}%` : undefined;
  /** A hop's reverse-DNS name when it differs from its address (format.ts `hopName`). @param {Hop} hop */
  const hopName = (hop) => (hop.name && hop.name !== hop.host ? hop.name : undefined);

  /** @param {string | undefined} s */
  const isFinal = (s) => s === "done" || s === "failed";
  /** @param {string} traceId */
  const sectionOf = (traceId) => document.getElementById(`trace-${traceId}`);

  /**
   * @param {string} tag
   * @param {Record<string, string | number>} attrs
   */
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  /**
   * Sets an element's text, or removes the element when there is nothing to show (a part of the
   * template this hop does not have).
   * @param {ParentNode} row
   * @param {string} selector
   * @param {string | undefined} text
   */
  function fillOrDrop(row, selector, text) {
    const node = row.querySelector(selector);
    if (!node) return;
    if (text === undefined) node.remove();
    else node.textContent = text;
  }

  /**
   * Sets or removes an attribute, as the server's JSX leaves out an undefined one.
   * @param {Element | null} node
   * @param {string} name
   * @param {string | undefined} value
   */
  function attr(node, name, value) {
    if (!node) return;
    if (value === undefined) node.removeAttribute(name);
    else node.setAttribute(name, value);
  }

  /**
   * A row for this hop: the section's template (the server's HopRow), filled as HopRow fills it.
   * @param {Element} section
   * @param {Hop} hop
   * @returns {HTMLTableRowElement | null}
   */
  function hopRow(section, hop) {
    const template = section.querySelector('template[data-role="hop-row"]');
    if (!(template instanceof HTMLTemplateElement)) return null;
    const tr = template.content.querySelector("tr.hop")?.cloneNode(true);
    if (!(tr instanceof HTMLTableRowElement)) return null;
    const alive = hop.recv > 0;
    tr.dataset.ttl = String(hop.ttl);
    fillOrDrop(tr, ".c-hop", `${hop.ttl}.`);
    const others = hop.responders.filter((r) => r.address !== hop.host);
    // A hop the operator hides keeps its counts; its identity never reaches the page.
    if (!hop.hidden) fillOrDrop(tr, ".c-host .hidden-hop", undefined);
    if (hop.hidden) {
      for (const part of [".name", ".addr", ".others", ".silent"])
        fillOrDrop(tr, `.c-host ${part}`, undefined);
    } else if (hop.host) {
      fillOrDrop(tr, ".c-host .silent", undefined);
      fillOrDrop(tr, ".c-host .name", hopName(hop));
      fillOrDrop(tr, ".c-host .addr", hop.host);
      fillOrDrop(
        tr,
        ".c-host .others",
        others.length > 0 ? `also ${others.map((r) => r.name ?? r.address).join(", ")}` : undefined,
      );
    } else {
      for (const part of [".name", ".addr", ".others"]) fillOrDrop(tr, `.c-host ${part}`, undefined);
    }
    const loss = tr.querySelector(".c-loss");
    fillOrDrop(tr, ".c-loss", pct(hop.lossPct));
    loss?.classList.toggle("lossy", hop.lossPct > 0);
    attr(loss, "title", lossIntervalTitle(hop));
    fillOrDrop(tr, ".c-snt", String(hop.sent));
    fillOrDrop(tr, ".c-last", alive ? ms(hop.last) : "");
    fillOrDrop(tr, ".c-avg", alive ? ms(hop.avg) : "");
    fillOrDrop(tr, ".c-best", alive ? ms(hop.best) : "");
    fillOrDrop(tr, ".c-wrst", alive ? ms(hop.worst) : "");
    fillOrDrop(tr, ".c-stdev", alive ? ms(hop.stdev) : "");
    fillOrDrop(tr, ".c-asn", asLabel(hop));
    attr(tr.querySelector(".c-asn"), "title", hop.owner);
    return tr;
  }

  /**
   * Puts the hop's row in its place in the section's table: a new row in TTL order (marked
   * `fresh` for its arrival), or the cells of the row already there replaced.
   * @param {Element} section
   * @param {Hop} hop
   */
  function showHop(section, hop) {
    const body = section.querySelector('[data-role="hops"]');
    const row = hopRow(section, hop);
    if (!body || !row) return;
    const old = body.querySelector(`tr.hop[data-ttl="${hop.ttl}"]`);
    if (old) {
      old.replaceChildren(...row.children);
      return;
    }
    for (const w of body.querySelectorAll("tr.waiting")) w.remove();
    const after = [...body.querySelectorAll("tr.hop")].find(
      (r) => r instanceof HTMLElement && Number(r.dataset.ttl) > hop.ttl,
    );
    body.insertBefore(row, after ?? null);
    row.classList.add("fresh");
  }

  /**
   * Best-to-worst band and the average line, sample by sample, on the hop's own scale.
   * @param {Sample[]} samples
   */
  function spark(samples) {
    const w = 120;
    const h = 18;
    const top = Math.max(1, ...samples.map((s) => s.worst));
    /** @param {number} i */
    const x = (i) => 2 + (i / Math.max(1, samples.length - 1)) * (w - 4);
    /** @param {number} v */
    const y = (v) => h - 2 - (v / top) * (h - 4);
    const band = [
      ...samples.map((s, i) => `${x(i)},${y(s.worst)}`),
      ...samples.map((s, i) => `${x(i)},${y(s.best)}`).reverse(),
    ].join(" ");
    const node = svg("svg", {
      class: "range spark",
      viewBox: `0 0 ${w} ${h}`,
      width: w,
      height: h,
      role: "img",
    });
    const last = samples[samples.length - 1];
    if (last)
      node.setAttribute(
        "aria-label",
        `over time: latest best ${ms(last.best)}, average ${ms(last.avg)}, worst ${ms(last.worst)} ms`,
      );
    node.append(svg("polygon", { class: "spark-band", points: band }));
    node.append(
      svg("polyline", { class: "spark-avg", points: samples.map((s, i) => `${x(i)},${y(s.avg)}`).join(" ") }),
    );
    return node;
  }

  /**
   * @param {string} traceId
   * @param {number} ttl
   */
  function drawSpark(traceId, ttl) {
    const samples = series.get(traceId)?.get(ttl);
    const section = sectionOf(traceId);
    const cell = section?.querySelector(`tr.hop[data-ttl="${ttl}"] .c-chart`);
    if (!cell || !samples || samples.length < 2) return;
    cell.replaceChildren(spark(samples));
  }

  /** @param {MessageEvent<string>} event */
  function onHop(event) {
    /** @type {HopEvent} */
    const { traceId, hop } = JSON.parse(event.data);
    const section = sectionOf(traceId);
    if (!section || isFinal(section.dataset.status)) return;
    showHop(section, hop);
    if (hop.recv > 0) {
      const byTtl = series.get(traceId) ?? new Map();
      series.set(traceId, byTtl);
      const samples = byTtl.get(hop.ttl) ?? [];
      byTtl.set(hop.ttl, samples);
      samples.push({ best: hop.best, avg: hop.avg, worst: hop.worst });
    }
    drawSpark(traceId, hop.ttl);
  }

  /**
   * @param {HTMLElement} root
   * @param {string} traceId
   */
  async function refreshSection(root, traceId) {
    const res = await fetch(`${root.dataset.liveFragment}${encodeURIComponent(traceId)}`);
    if (!res.ok) return;
    // Our own server's rendering of the section (it escapes everything it prints).
    const template = document.createElement("template");
    template.innerHTML = await res.text();
    const fresh = template.content.querySelector("section.pop");
    const old = sectionOf(traceId);
    if (!fresh || !old) return;
    old.replaceWith(fresh);
    for (const ttl of series.get(traceId)?.keys() ?? []) drawSpark(traceId, ttl);
  }

  /**
   * @param {HTMLElement} root
   * @param {Pick<TraceView, "id" | "status">} trace
   */
  function onTraceStatus(root, trace) {
    const section = sectionOf(trace.id);
    if (!section || section.dataset.status === trace.status) return;
    const wasFinal = isFinal(section.dataset.status);
    section.dataset.status = trace.status;
    const badge = section.querySelector('[data-role="status"]');
    if (badge) {
      badge.textContent = trace.status;
      badge.className = `status status-${trace.status}`;
    }
    if (isFinal(trace.status) && !wasFinal) void refreshSection(root, trace.id);
  }

  /**
   * Hops get their places when each trace is stored: once everything is done, the server's map
   * (data-live-map) replaces the one drawn when the page loaded.
   * @param {HTMLElement} root
   */
  async function refreshMap(root) {
    if (!root.dataset.liveMap) return;
    const res = await fetch(root.dataset.liveMap);
    if (!res.ok) return;
    // Our own server's rendering of the map (it escapes everything it prints).
    const template = document.createElement("template");
    template.innerHTML = await res.text();
    const fresh = template.content.querySelector('[data-role="map-slot"]');
    const old = root.querySelector('[data-role="map-slot"]');
    if (fresh && old) old.replaceWith(fresh);
  }

  /** @param {HTMLElement} root */
  function follow(root) {
    const stream = new EventSource(root.dataset.liveEvents ?? "");
    stream.addEventListener("snapshot", (e) => {
      root.dataset.live = "on";
      // A measurement lists its traces; a path test has a forward and (maybe) a reverse trace.
      /** @type {{ traces?: TraceView[], forward?: TraceView, reverse?: TraceView | null }} */
      const view = JSON.parse(e.data);
      const traces = view.traces ?? [view.forward, view.reverse];
      for (const t of traces) if (t) onTraceStatus(root, t);
    });
    stream.addEventListener("hop", onHop);
    stream.addEventListener("trace", (e) => onTraceStatus(root, JSON.parse(e.data)));
    stream.addEventListener("done", (e) => {
      stream.close();
      if (root.dataset.liveReload === "done") {
        window.location.reload();
        return;
      }
      root.dataset.status = "done";
      const badge = root.querySelector('[data-role="m-status"]');
      if (badge) {
        badge.textContent = JSON.parse(e.data).status;
        badge.className = "status status-done";
      }
      void refreshMap(root);
    });
  }

  for (const root of streams) follow(root);
})();
