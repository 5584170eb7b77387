// Live updates of a page: follows the event streams it names and fills the
// tables in as replies arrive. Everything from the stream is written with textContent (never as
// HTML); a finished trace's section is swapped for the server's own rendering of it.
//
// The page says what to follow on root elements:
//   data-live-events="/api/.../events"  the event stream (measurements and path tests)
//   data-live-fragment="/m/<id>/trace/" where a finished trace's section is rendered
//   data-live-reload="done"             reload the page once everything is done (verdicts)
//   data-live-poll="/api/..."           no stream: poll this view and reload when its status changes
//   data-live-goto="/r/<id>"            ... or go to this permalink instead of reloading
(() => {
  const POLL_MS = 2000;

  /** No stream: poll the view and reload (or go to the permalink) when its status changes. */
  function poll(root) {
    const tick = async () => {
      try {
        const res = await fetch(root.dataset.livePoll, { headers: { accept: "application/json" } });
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
    if (root.dataset.status !== "done") poll(root);
  // A page can follow several streams at once (a reverse session's legs).
  const streams = [...document.querySelectorAll("[data-live-events]")].filter(
    (r) => r.dataset.status !== "done",
  );
  if (streams.length === 0 || !("EventSource" in window)) return;
  const SVG = "http://www.w3.org/2000/svg";
  /** traceId -> ttl -> [{best, avg, worst}] samples, for the over-time chart of each hop. */
  const series = new Map();

  const ms = (n) => n.toFixed(1);
  const isFinal = (s) => s === "done" || s === "failed";
  const sectionOf = (traceId) => document.getElementById(`trace-${traceId}`);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function newRow(ttl) {
    const tr = el("tr", "hop");
    tr.dataset.ttl = String(ttl);
    const cells = ["c-hop", "c-host", "c-num c-loss", "c-num c-snt", "c-num c-last", "c-num c-avg"];
    cells.push("c-num c-best", "c-num c-wrst", "c-num c-stdev", "c-asn", "c-chart");
    for (const cls of cells) tr.append(el("td", cls));
    return tr;
  }

  function rowFor(section, ttl) {
    const body = section.querySelector('[data-role="hops"]');
    if (!body) return null;
    let tr = body.querySelector(`tr.hop[data-ttl="${ttl}"]`);
    if (tr) return tr;
    for (const w of body.querySelectorAll("tr.waiting")) w.remove();
    tr = newRow(ttl);
    const after = [...body.querySelectorAll("tr.hop")].find((r) => Number(r.dataset.ttl) > ttl);
    body.insertBefore(tr, after ?? null);
    tr.classList.add("fresh");
    return tr;
  }

  function setHost(td, hop) {
    td.replaceChildren();
    if (!hop.host) {
      td.append(el("span", "silent", "???"));
      return;
    }
    if (hop.name && hop.name !== hop.host) td.append(el("span", "name", hop.name));
    td.append(el("span", "addr", hop.host));
    const others = (hop.responders || []).filter((r) => r.address !== hop.host);
    if (others.length)
      td.append(el("span", "others", `also ${others.map((r) => r.name || r.address).join(", ")}`));
  }

  /** Best-to-worst band and the average line, sample by sample, on the hop's own scale. */
  function spark(samples) {
    const w = 120;
    const h = 18;
    const top = Math.max(1, ...samples.map((s) => s.worst));
    const x = (i) => 2 + (i / Math.max(1, samples.length - 1)) * (w - 4);
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

  function drawSpark(traceId, ttl) {
    const samples = series.get(traceId)?.get(ttl);
    const section = sectionOf(traceId);
    const cell = section?.querySelector(`tr.hop[data-ttl="${ttl}"] .c-chart`);
    if (!cell || !samples || samples.length < 2) return;
    cell.replaceChildren(spark(samples));
  }

  function onHop(event) {
    const { traceId, hop } = JSON.parse(event.data);
    const section = sectionOf(traceId);
    if (!section || isFinal(section.dataset.status)) return;
    const tr = rowFor(section, hop.ttl);
    if (!tr) return;
    const alive = hop.recv > 0;
    const cell = (cls) => tr.querySelector(`.${cls}`);
    cell("c-hop").textContent = `${hop.ttl}.`;
    setHost(cell("c-host"), hop);
    const loss = cell("c-loss");
    loss.textContent = `${hop.lossPct.toFixed(1)}%`;
    loss.classList.toggle("lossy", hop.lossPct > 0);
    if (hop.lossCi) loss.title = `95% interval of Loss%: ${hop.lossCi[0]}–${hop.lossCi[1]}%`;
    cell("c-snt").textContent = String(hop.sent);
    cell("c-last").textContent = alive ? ms(hop.last) : "";
    cell("c-avg").textContent = alive ? ms(hop.avg) : "";
    cell("c-best").textContent = alive ? ms(hop.best) : "";
    cell("c-wrst").textContent = alive ? ms(hop.worst) : "";
    cell("c-stdev").textContent = alive ? ms(hop.stdev) : "";
    cell("c-asn").textContent = hop.asn === undefined ? "" : `AS${hop.asn}`;
    if (alive) {
      if (!series.has(traceId)) series.set(traceId, new Map());
      const byTtl = series.get(traceId);
      if (!byTtl.has(hop.ttl)) byTtl.set(hop.ttl, []);
      byTtl.get(hop.ttl).push({ best: hop.best, avg: hop.avg, worst: hop.worst });
      drawSpark(traceId, hop.ttl);
    }
  }

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
    if (isFinal(trace.status) && !wasFinal) refreshSection(root, trace.id);
  }

  function follow(root) {
    const stream = new EventSource(root.dataset.liveEvents);
    stream.addEventListener("snapshot", (e) => {
      root.dataset.live = "on";
      // A measurement lists its traces; a path test has a forward and (maybe) a reverse trace.
      const view = JSON.parse(e.data);
      for (const t of view.traces ?? [view.forward, view.reverse].filter(Boolean)) onTraceStatus(root, t);
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
    });
  }

  for (const root of streams) follow(root);
})();
