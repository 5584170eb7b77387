import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRepository } from "@lg/db";
import type {
  AlertView,
  Hop,
  MeasurementView,
  MonitorSample,
  MonitorView,
  PathTestView,
  ProgressMessage,
  ReverseSessionView,
  TraceView,
} from "@lg/protocol";
import { subjects } from "@lg/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanoid } from "nanoid";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTraceChange } from "../src/live/publish";
import { createApiKey, createSecurityStore } from "../src/security";
import { FAULT_WORDS } from "../src/web/components/path-test";
import { FINDING_TITLES, VERDICT_WORDS } from "../src/web/findings";
import { artifactsDir, launchChromium, type RealBrowser, shot } from "./browser";
import { repoRoot, tsxLoader, waitFor, waitForMeasurementDone } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";

/**
 * The web UI in real Chromium against the reference lab: nats-server, the coordinator on PGlite,
 * and real agents inside the lab's PoP namespaces fra (region eu) and sin (region ap) probing the
 * lab's targets with mtr-packet.
 */
describe("web UI in Chromium on the reference lab", () => {
  let env: LabStack;
  let browser: RealBrowser;
  let url: string;
  /** The measurement submitted through the form (the loss target, from fra and sin). */
  let measurementId: string;

  beforeAll(async () => {
    env = await startLabStack();
    url = env.url;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${url}${path}`)).json()) as T;
  const newPage = async () => {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return Object.assign(page, { dialogs });
  };

  it("the form lists the lab's PoPs grouped by region, online ones ticked, with the security headers", async () => {
    const page = await newPage();
    const res = await page.goto(`${url}/`);
    const headers = res?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("same-origin");

    const regions = await page.locator(".region-name").allTextContents();
    expect(regions).toEqual(["ap", "eu"]);
    for (const pop of ["fra", "sin"]) {
      const choice = page.locator(".pop-choice", { hasText: pop });
      await expect.poll(() => choice.locator(".pop-state").textContent()).toBe("online");
      expect(await choice.locator("input").isChecked()).toBe(true);
    }
    await page.screenshot({ path: shot("01-form"), fullPage: true });
    await page.close();
  });

  it("the form works from the keyboard alone, with a visible focus ring on each control", async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    // The target field has the focus on arrival; Tab walks the PoPs, the protocol, port, IP version and packets.
    expect(await page.evaluate("document.activeElement.id")).toBe("target");
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      const focused = (await page.evaluate(
        `(() => { const e = document.activeElement; const s = getComputedStyle(e.matches("input[type=radio]") ? e.nextElementSibling : e);
          return { key: e.name || e.id || e.textContent.trim(), outline: s.outlineStyle }; })()`,
      )) as { key: string; outline: string };
      expect(focused.outline, `focus ring on ${focused.key}`).not.toBe("none");
      seen.push(focused.key);
    }
    expect(seen.slice(0, 2)).toEqual(["from", "from"]);
    expect(seen).toEqual(expect.arrayContaining(["protocol", "port", "ipVersion", "count", "Trace"]));
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (await page.evaluate(
      "document.documentElement.scrollWidth - window.innerWidth",
    )) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: shot("01b-form-phone"), fullPage: true });
    await page.close();
  });

  it("an unknown measurement or path test is a 404 page, not a stack trace", async () => {
    const page = await newPage();
    for (const path of ["/m/nope", "/compare/nope", "/p/nope", "/m/nope.csv"]) {
      const res = await page.goto(`${url}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await page.locator("h1").textContent()).toMatch(/^No such (measurement|path test)$/);
    }
    await page.close();
  });

  it("a bad target or count comes back beside its field with the API's own message", async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    // A private address outside the lab's ranges: refused before any probe is sent.
    await page.fill("#target", "10.1.2.3");
    await page.click("button[type=submit]");
    await page.waitForSelector("#target-error");
    const apiAnswer = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "10.1.2.3", from: ["fra", "sin"], protocol: "icmp", count: 10 }),
    });
    expect(apiAnswer.status).toBe(400);
    const apiError = ((await apiAnswer.json()) as { error: { message: string; field: string } }).error;
    expect(apiError.field).toBe("target");
    expect(await page.textContent("#target-error")).toBe(apiError.message);
    expect(await page.getAttribute("#target", "aria-invalid")).toBe("true");
    expect(await page.inputValue("#target")).toBe("10.1.2.3");

    await page.fill("#target", env.lab.scenarios.clean.target);
    await page.fill("#count", "500");
    await page.click("button[type=submit]");
    await page.waitForSelector("#count-error");
    const countAnswer = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: env.lab.scenarios.clean.target, count: 500 }),
    });
    const countError = ((await countAnswer.json()) as { error: { message: string } }).error;
    expect(await page.textContent("#count-error")).toBe(countError.message);
    expect(await page.locator(".field-error").count()).toBe(1);
    await page.screenshot({ path: shot("02-form-error"), fullPage: true });
    await page.close();
  });

  it("submitting with the keyboard opens the live page, and rows appear while the traces run", async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    const target = env.lab.scenarios.loss.target;
    await page.fill("#target", target);
    const started = performance.now();
    await page.press("#target", "Enter");
    await page.waitForURL(/\/m\/[A-Za-z0-9_-]+$/);
    const firstRow = await page.waitForSelector("tr.hop", { timeout: 30_000 });
    const firstRowMs = performance.now() - started;
    // Rows came in live: the first one was there while the measurement still ran.
    const statusAtFirstRow = await page.getAttribute("[data-measurement]", "data-status");
    expect(statusAtFirstRow).toBe("running");
    expect(await firstRow.getAttribute("data-ttl")).toMatch(/^\d+$/);
    measurementId = page.url().split("/").at(-1) as string;
    await page.screenshot({ path: shot("03-live-running"), fullPage: true });

    await writeFile(
      join(artifactsDir, "submit-to-first-row.json"),
      `${JSON.stringify({ target, firstRowMs: Math.round(firstRowMs), at: new Date().toISOString() })}\n`,
    );
    console.log(`submit → first row in the browser: ${Math.round(firstRowMs)} ms`);

    await page.waitForSelector('[data-role="m-status"].status-done', { timeout: 90_000 });
    const stored = await waitForMeasurementDone(url, measurementId);
    expect(stored.traces.map((t) => t.agentId).sort()).toEqual(["fra", "sin"]);
    // Every section was swapped for its final rendering: same hops as stored, verdict shown.
    for (const t of stored.traces) {
      const section = page.locator(`#trace-${t.id}`);
      await expect.poll(() => section.getAttribute("data-status")).toBe(t.status);
      await section.locator(".verdict").waitFor();
      const ttls = await section
        .locator("tr.hop")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-ttl")));
      expect(ttls).toEqual(t.hops.map((h) => String(h.ttl)));
      const losses = await section.locator("tr.hop .c-loss").allTextContents();
      expect(losses).toEqual(t.hops.map((h) => `${h.lossPct.toFixed(1)}%`));
    }
    await page.screenshot({ path: shot("04-live-done"), fullPage: true });
    await page.close();
  });

  it("the permalink in a new page shows each PoP's table, verdict and the findings beside their hops", async () => {
    const stored = await api<MeasurementView>(`/api/v1/measurements/${measurementId}`);
    const page = await newPage();
    await page.goto(`${url}/m/${measurementId}`);
    expect(await page.locator("h1 .m-target").textContent()).toBe(stored.target);
    const fra = stored.traces.find((t) => t.agentId === "fra") as TraceView;
    const diagnosis = fra.diagnosis;
    expect(diagnosis).not.toBeNull();
    const section = page.locator(`#trace-${fra.id}`);
    expect(await section.locator(".verdict strong").textContent()).toBe(
      `${VERDICT_WORDS[diagnosis?.verdict ?? "clean"]}.`,
    );
    expect(diagnosis?.findings.length).toBeGreaterThan(0);
    for (const f of diagnosis?.findings ?? []) {
      // The note sits in the row right after the hop it starts at.
      const note = section
        .locator(`tr.hop[data-ttl="${f.hops[0]}"] ~ tr.finding`)
        .first()
        .locator(".finding-title strong");
      expect(await note.textContent()).toBe(FINDING_TITLES[f.code]);
      const hopRow = section.locator(`tr.hop[data-ttl="${f.hops[0]}"]`);
      expect(await hopRow.getAttribute("class")).toContain(`sev-${f.severity}`);
    }
    for (const hop of fra.hops.filter((h) => h.host)) {
      expect(await section.locator(`tr.hop[data-ttl="${hop.ttl}"] .addr`).textContent()).toBe(hop.host);
    }
    expect(await section.locator("svg.profile").count()).toBe(1);
    await page.screenshot({ path: shot("05-permalink"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (await page.evaluate(
      "document.documentElement.scrollWidth - window.innerWidth",
    )) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: shot("06-permalink-phone"), fullPage: true });
    await page.close();
  });

  it("each export downloads with the measurement's content (mtr report, JSON, mtr CSV, self-contained HTML)", async () => {
    const stored = await api<MeasurementView>(`/api/v1/measurements/${measurementId}`);
    const page = await newPage();
    await page.goto(`${url}/m/${measurementId}`);
    const download = async (ext: string) => {
      const [file] = await Promise.all([page.waitForEvent("download"), page.click(`a[href$=".${ext}"]`)]);
      const path = join(artifactsDir, `export.${ext}`);
      await file.saveAs(path);
      expect(file.suggestedFilename()).toBe(`lg-${measurementId}.${ext}`);
      return readFile(path, "utf8");
    };

    const txt = await download("txt");
    for (const t of stored.traces) {
      expect(txt).toContain(`HOST: ${t.agentId}`);
      for (const h of t.hops) expect(txt).toMatch(new RegExp(`^ +${h.ttl}\\.\\|-- `, "m"));
      expect(txt).toContain(`diagnosis: ${t.diagnosis?.verdict}`);
    }

    const json = JSON.parse(await download("json")) as MeasurementView;
    expect(json).toEqual(stored);

    const csv = (await download("csv")).trimEnd().split("\n");
    expect(csv[0]).toMatch(/^Pop,Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt,/);
    expect(csv).toHaveLength(1 + stored.traces.reduce((n, t) => n + t.hops.length, 0));
    for (const t of stored.traces)
      for (const h of t.hops)
        expect(csv).toContainEqual(
          expect.stringMatching(new RegExp(`^${t.agentId},[^,]+,\\d+,OK,${t.target},${h.ttl},`)),
        );

    const html = await download("html");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src="\//i);
    expect(html).toContain("<style>");
    const offline = await newPage();
    await offline.goto(`file://${join(artifactsDir, "export.html")}`);
    expect(await offline.locator("section.pop").count()).toBe(stored.traces.length);
    expect(await offline.locator("h1 .m-target").textContent()).toBe(stored.target);
    await offline.screenshot({ path: shot("07-export-html"), fullPage: true });
    await offline.close();
    await page.close();
  });

  it("the compare page aligns the PoPs by hop and names the PoP that sees the problem", async () => {
    const stored = await api<MeasurementView>(`/api/v1/measurements/${measurementId}`);
    const page = await newPage();
    await page.goto(`${url}/m/${measurementId}`);
    await page.click("text=Compare PoPs side by side");
    await page.waitForURL(`${url}/compare/${measurementId}`);
    // A router both PoPs cross sits on one row, whatever its TTL from each.
    const rows = await page
      .locator("table.compare tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll("td")].map((td) => td.querySelector(".addr")?.textContent ?? null),
        ),
      );
    const hostsOf = (t: TraceView) =>
      new Set(t.hops.map((h) => h.host).filter((h): h is string => h !== null));
    const [first, second] = stored.traces as [TraceView, TraceView];
    const common = [...hostsOf(first)].filter((h) => hostsOf(second).has(h));
    expect(common.length).toBeGreaterThan(0);
    for (const host of common) expect(rows.filter((r) => r[0] === host && r[1] === host)).toHaveLength(1);
    const shown = rows.flat().filter((a) => a !== null).length;
    expect(shown).toBe(stored.traces.reduce((n, t) => n + t.hops.filter((h) => h.host).length, 0));
    const withProblem = stored.traces.filter((t) => t.diagnosis?.verdict === "problem");
    expect(withProblem.length).toBeGreaterThan(0);
    const banner = (await page.locator(".banner-problem").textContent()) ?? "";
    for (const t of stored.traces) {
      const named = banner.includes(`${t.agentId} sees the problem`);
      expect(named).toBe(withProblem.includes(t));
      const header = page.locator("table.compare thead th", { hasText: t.agentId });
      expect(await header.getAttribute("class")).toBe(withProblem.includes(t) ? "pop-problem" : "pop-ok");
    }
    await page.screenshot({ path: shot("08-compare"), fullPage: true });
    await page.close();
  });

  it("a path test started from the form page shows the verdict on top, the route map and both directions", async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.selectOption("#pt-a", "fra");
    await page.selectOption("#pt-b", "sin");
    await page.click("#path-test button[type=submit]");
    await page.waitForURL(/\/p\/[A-Za-z0-9_-]+$/);
    const id = page.url().split("/").at(-1) as string;
    await page.screenshot({ path: shot("10-path-test-running"), fullPage: true });
    // The page reloads itself once both directions are done and compared.
    await page.waitForSelector('[data-path-test][data-status="done"] .verdict-box', { timeout: 120_000 });
    const view = await api<PathTestView>(`/api/v1/path-tests/${id}`);
    const c = view.comparison;
    expect(c).not.toBeNull();
    if (!c) return;
    const box = page.locator(".verdict-box");
    expect(await box.locator(".chip").textContent()).toBe(
      c.verdict === "symmetric" ? "Symmetric" : "Asymmetric",
    );
    expect(await box.locator("strong").textContent()).toBe(FAULT_WORDS[c.faultDirection]("fra", "sin"));
    expect(await box.locator(".summary").textContent()).toBe(c.summary);
    // The verdict comes before everything else that describes the path.
    const order = await page.evaluate(
      `[...document.querySelectorAll(".verdict-box, svg.segmap, .segments, section.pop")].map((e) => e.className.baseVal ?? e.className)`,
    );
    expect((order as string[])[0]).toContain("verdict-box");
    expect(await page.locator(".segment").count()).toBe(c.segments.length);
    expect(await page.locator(".segment-diverged").count()).toBe(
      c.segments.filter((s) => s.kind === "diverged").length,
    );
    expect(await page.locator(`#trace-${view.forward.id} tr.hop`).count()).toBe(view.forward.hops.length);
    expect(await page.locator(`#trace-${view.reverse?.id} tr.hop`).count()).toBe(view.reverse?.hops.length);
    // Each router of the comparison is one line (a shared one with both of its hops), with its evidence.
    const routers = c.routers ?? [];
    expect(await page.locator("tr.router-row[data-router]").count()).toBe(routers.length);
    for (const r of routers) {
      const row = page.locator(`tr.router-row[data-router="${r.id}"]`);
      expect(await row.getAttribute("class"), r.id).toContain(`place-${r.identity}`);
      expect(await row.getAttribute("title"), r.id).toContain(`addresses: ${r.addresses.join(", ")}`);
      expect(await row.locator("details li.ev-agrees, details li.ev-against").count(), r.id).toBe(
        r.evidence.length,
      );
    }
    expect(await page.locator(".follow-ups tbody tr").count()).toBe(
      view.forward.followUps.length + (view.reverse?.followUps.length ?? 0),
    );
    await page.screenshot({ path: shot("11-path-test-done"), fullPage: true });
    await page.close();
  });

  it("a reverse session page shows the one command, follows the customer behind NAT joining, then shows each leg's verdict", async () => {
    const page = await newPage();
    // The page is opened on the lab-side address, so the command it shows works from the customer's host.
    await page.goto(`${env.labUrl}/r/new`);
    await page.selectOption("#serverAgent", "fra");
    await page.click("button[type=submit]");
    const command = (await page.locator('[data-role="command"]').textContent()) ?? "";
    expect(command).toMatch(
      /^sh -c '[^']+' lg-join '.+\/api\/v1\/reverse-sessions\/[A-Za-z0-9_-]+\/join\.sh\?token=[A-Za-z0-9_-]+'$/,
    );
    expect(command).toContain(env.labUrl);
    const id = /reverse-sessions\/([A-Za-z0-9_-]+)\//.exec(command)?.[1] as string;
    await page.screenshot({ path: shot("12-reverse-waiting"), fullPage: true });

    // The customer: `lg join` inside the NATed customer host (what join.sh runs after its checks).
    const joinUrl = (/'(http[^']+)'$/.exec(command)?.[1] ?? "").replace("/join.sh?", "/join?");
    const customer = env.lab.spawn(
      "cust",
      [process.execPath, "--import", tsxLoader, join(repoRoot, "apps/cli/src/main.ts"), "join", joinUrl],
      {
        cwd: repoRoot,
        env: { LOG_LEVEL: "warn" },
      },
    );
    let customerOutput = "";
    customer.stdout.on("data", (d: Buffer) => {
      customerOutput += d;
    });
    customer.stderr.on("data", (d: Buffer) => {
      customerOutput += d;
    });
    try {
      // The page moves to the session's permalink on its own once the customer joins.
      await page.waitForURL(`${env.labUrl}/r/${id}`, { timeout: 60_000 }).catch((err: Error) => {
        throw new Error(`${err.message}\ncustomer output:\n${customerOutput}`);
      });
      // The legs fill in live while the session still runs.
      await page.waitForSelector("section.leg tr.hop", { timeout: 30_000 });
      expect(await page.getAttribute("[data-reverse-session]", "data-status")).not.toBe("done");
      await page.screenshot({ path: shot("13-reverse-joined"), fullPage: true });
      await page.waitForSelector('[data-reverse-session][data-status="done"]', { timeout: 120_000 });
    } finally {
      await customer.stop("SIGTERM");
    }
    const view = await api<ReverseSessionView>(`/api/v1/reverse-sessions/${id}`);
    expect(view.status).toBe("done");
    expect(view.customer.publicAddress).not.toBeNull();
    expect(await page.locator(".banner-clean .addr").textContent()).toBe(view.customer.publicAddress);
    expect(view.legs.length).toBeGreaterThan(0);
    expect(await page.locator("section.leg").count()).toBe(view.legs.length);
    for (const [i, leg] of view.legs.entries()) {
      const section = page.locator("section.leg").nth(i);
      const c = leg.comparison;
      if (c) {
        expect(await section.locator(".verdict-box .summary").textContent()).toBe(c.summary);
      } else {
        expect(await section.locator(".banner-pending").textContent()).toContain(
          "Only the way there could be traced.",
        );
      }
    }
    await page.screenshot({ path: shot("14-reverse-done"), fullPage: true });
    await page.close();
  });

  it("the monitors page is refused without an operator key and, with one, draws each monitor's runs and lists its alerts", async () => {
    const store = createSecurityStore(env.stack.coordinator.db.db);
    const { key } = await createApiKey(store, ["monitors"], "web test");
    const auth = { authorization: `Bearer ${key}` };
    const created = (await (
      await fetch(`${url}/api/v1/monitors`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({
          kind: "trace",
          name: "loss target from both PoPs",
          every: 5,
          measurement: {
            target: env.lab.scenarios.loss.target,
            from: ["fra", "sin"],
            count: 5,
            interval: 0.2,
          },
          rules: { loss: { pct: 10, runs: 1 } },
        }),
      })
    ).json()) as MonitorView;
    await waitFor(
      "two monitor runs",
      async () => {
        const m = (await (
          await fetch(`${url}/api/v1/monitors/${created.id}`, { headers: auth })
        ).json()) as MonitorView;
        return m.runs >= 2 ? m : undefined;
      },
      60_000,
    );

    const stranger = await newPage();
    const refused = await stranger.goto(`${url}/monitors`);
    expect(refused?.status()).toBe(401);
    expect(await stranger.locator("h1").textContent()).toBe("Monitors are for operators");
    await stranger.close();

    const page = await newPage();
    await page.setExtraHTTPHeaders(auth);
    expect((await page.goto(`${url}/monitors`))?.status()).toBe(200);
    const card = page.locator(`#monitor-${created.id}`);
    expect(await card.locator("h2").textContent()).toBe("loss target from both PoPs");
    const series = (await (
      await fetch(`${url}/api/v1/monitors/${created.id}/series`, { headers: auth })
    ).json()) as MonitorSample[];
    const subjects = new Set(series.map((s) => s.subject));
    expect(await card.locator("svg.series-chart polyline.avg").count()).toBe(subjects.size);
    const runs = new Set(series.map((s) => `${s.subject}/${s.traceId}`));
    expect(await card.locator("svg.series-chart circle.point").count()).toBe(runs.size);
    const alerts = (await (await fetch(`${url}/api/v1/alerts`, { headers: auth })).json()) as AlertView[];
    const rows = page.locator("table.alerts tbody tr");
    expect(await rows.count()).toBe(alerts.length);
    for (const [i, a] of alerts.entries())
      expect(await rows.nth(i).locator(".status").textContent()).toBe(a.status);
    await page.screenshot({ path: shot("15-monitors"), fullPage: true });
    await fetch(`${url}/api/v1/monitors/${created.id}`, { method: "DELETE", headers: auth });
    await page.close();
  });

  it("the PoP mesh shows each pair's latest path test with loss, latency and an asymmetry mark, and opens it", async () => {
    const store = createSecurityStore(env.stack.coordinator.db.db);
    const { key } = await createApiKey(store, ["monitors"], "mesh test");
    const auth = { authorization: `Bearer ${key}` };
    const pairs = [
      ["fra", "sin"],
      ["sin", "fra"],
    ] as const;
    const created: MonitorView[] = [];
    for (const [a, b] of pairs) {
      const res = await fetch(`${url}/api/v1/monitors`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ kind: "path-test", every: 300, pathTest: { a, b, count: 5, interval: 0.2 } }),
      });
      created.push((await res.json()) as MonitorView);
    }
    const ran = await Promise.all(
      created.map((m) =>
        waitFor(
          `a run of monitor ${m.id}`,
          async () => {
            const v = (await (
              await fetch(`${url}/api/v1/monitors/${m.id}`, { headers: auth })
            ).json()) as MonitorView;
            return v.lastLink ? v : undefined;
          },
          60_000,
        ),
      ),
    );

    const stranger = await newPage();
    expect((await stranger.goto(`${url}/mesh`))?.status()).toBe(401);
    await stranger.close();

    const page = await newPage();
    await page.setExtraHTTPHeaders(auth);
    await page.goto(`${url}/mesh`);
    for (const [i, [a, b]] of pairs.entries()) {
      const testId = /\/p\/([A-Za-z0-9_-]+)$/.exec(ran[i]?.lastLink ?? "")?.[1] as string;
      const view = await api<PathTestView>(`/api/v1/path-tests/${testId}`);
      const cell = page.locator(`a[aria-label="path test ${a} to ${b}"]`);
      expect(await cell.getAttribute("href")).toBe(`/p/${testId}`);
      const last = [...view.forward.hops].reverse().find((h) => h.recv > 0 || h.host !== null);
      expect(await cell.locator("span").first().textContent()).toBe(
        last ? `${last.lossPct.toFixed(1)}%` : "—",
      );
      expect(await cell.locator(".asym-mark").count()).toBe(
        view.comparison?.verdict === "asymmetric" ? 1 : 0,
      );
    }
    await page.screenshot({ path: shot("16-mesh"), fullPage: true });
    await page.click('a[aria-label="path test fra to sin"]');
    await page.waitForSelector(".verdict-box");
    await page.close();
    for (const m of created)
      await fetch(`${url}/api/v1/monitors/${m.id}`, { method: "DELETE", headers: auth });
  });

  it("a row filled live from the stream is the row the server renders once the trace is stored", async () => {
    const repo = createRepository(env.stack.coordinator.db.db);
    const nc = env.stack.coordinator.nc;
    const id = nanoid();
    const traceId = nanoid();
    const base = {
      sent: 10,
      jitter: 0.1,
      jitterAvg: 0.1,
      jitterMax: 0.3,
    };
    // Every part a row can have: a name, other responders, a loss interval, an AS with its owner;
    // a silent hop; a bare address without name or AS.
    const hops: Hop[] = [
      {
        ...base,
        ttl: 1,
        host: "198.18.0.1",
        name: "core1.lab.example",
        asn: 64500,
        owner: "Example Transit",
        lossPct: 20,
        recv: 8,
        drop: 2,
        lossCi: [5.7, 51],
        last: 1.53,
        avg: 1.46,
        best: 1.12,
        worst: 2.04,
        stdev: 0.21,
        responders: [
          { address: "198.18.0.1", name: "core1.lab.example", count: 6 },
          { address: "198.18.0.9", name: "core9.lab.example", count: 1 },
          { address: "198.18.0.10", count: 1 },
        ],
      },
      {
        ...base,
        ttl: 2,
        host: null,
        lossPct: 100,
        recv: 0,
        drop: 10,
        last: 0,
        avg: 0,
        best: 0,
        worst: 0,
        stdev: 0,
        responders: [],
      },
      {
        ...base,
        ttl: 3,
        host: "198.18.0.3",
        lossPct: 0,
        recv: 10,
        drop: 0,
        last: 3.3,
        avg: 3.25,
        best: 3,
        worst: 3.9,
        stdev: 0.3,
        responders: [{ address: "198.18.0.3", count: 10 }],
      },
    ];
    await repo.createMeasurement({
      id,
      target: "198.18.0.3",
      options: {
        protocol: "icmp",
        count: 10,
        interval: 1,
        size: 64,
        firstTtl: 1,
        maxTtl: 30,
        maxUnknown: 12,
        timeout: 10,
        gracePeriod: 5,
        tos: 0,
        pinFlow: false,
        mda: false,
      },
      client: null,
      traces: [{ id: traceId, agentId: "fra", status: "queued" }],
    });
    const page = await newPage();
    await page.goto(`${url}/m/${id}`);
    await page.waitForSelector('[data-measurement][data-live="on"]');
    await publishProgressUntilShown(page, nc, { traceId, cycle: 10, address: "198.18.0.3", hops });
    // Each row as markup: its attributes and every cell's attributes and content. The chart cell's
    // content is left out: live it draws the hop over time, stored the best–worst bar on the
    // section's scale. `fresh` only marks a row's arrival (an animation).
    const rows = () =>
      page.locator(`#trace-${traceId} tr.hop`).evaluateAll((trs) =>
        trs.map((tr) => ({
          attributes: [...tr.attributes]
            .map((a) => `${a.name}=${a.name === "class" ? a.value.replace(/ ?\bfresh\b/, "") : a.value}`)
            .sort(),
          cells: [...tr.querySelectorAll("td")].map((td) => ({
            attributes: [...td.attributes].map((a) => `${a.name}=${a.value}`).sort(),
            html: td.classList.contains("c-chart") ? "" : td.innerHTML,
          })),
        })),
      );
    const live = await rows();
    expect(live).toHaveLength(3);
    expect(await page.getAttribute(`#trace-${traceId}`, "data-status")).not.toBe("done");
    // What the live script used to leave out: the AS owner's hover.
    expect(live[0]?.cells[9]).toEqual({
      attributes: ["class=c-asn", "title=Example Transit"],
      html: "AS64500",
    });

    const row = await repo.storeFinalResult(
      {
        v: 1,
        traceId,
        measurementId: id,
        agentId: "fra",
        status: "done",
        target: "198.18.0.3",
        address: "198.18.0.3",
        hops,
        stoppedBy: "destination",
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
      },
      { verdict: "clean", findings: [] },
    );
    if (row) publishTraceChange(nc, row);
    await page.waitForSelector(`#trace-${traceId}[data-status="done"] .verdict`);
    expect(await page.locator(`#trace-${traceId} template`).count()).toBe(0);
    expect(await rows()).toEqual(live);
    await page.close();
  });

  it("hostile reverse-DNS names are shown as text, live over the stream and once stored", async () => {
    const repo = createRepository(env.stack.coordinator.db.db);
    const nc = env.stack.coordinator.nc;
    const id = nanoid();
    const traceId = nanoid();
    const scriptName = "<script>alert(1)</script>.evil";
    const imgName = `"><img src=x onerror=alert(2)>`;
    const hop = (ttl: number, host: string, name: string): Hop => ({
      ttl,
      host,
      name,
      lossPct: 0,
      sent: 10,
      recv: 10,
      drop: 0,
      last: 1.5,
      avg: 1.4,
      best: 1.1,
      worst: 2,
      stdev: 0.2,
      jitter: 0.1,
      jitterAvg: 0.1,
      jitterMax: 0.3,
      responders: [{ address: host, name, count: 10 }],
    });
    const hops = [hop(1, "198.18.0.1", scriptName), hop(2, "198.18.0.2", imgName)];
    await repo.createMeasurement({
      id,
      target: "198.18.0.2",
      options: stored().options,
      client: null,
      traces: [{ id: traceId, agentId: "fra", status: "queued" }],
    });

    const page = await newPage();
    await page.goto(`${url}/m/${id}`);
    await page.waitForSelector('[data-measurement][data-live="on"]');
    // The live path: a progress message as an agent publishes it, relayed over SSE.
    await publishProgressUntilShown(page, nc, { traceId, cycle: 1, address: "198.18.0.2", hops });
    const names = () => page.locator(`#trace-${traceId} tr.hop .name`).allTextContents();
    expect(await names()).toEqual([scriptName, imgName]);
    expect(await page.locator("img").count()).toBe(0);

    // The stored path: the final result lands, the section is swapped for the server's rendering.
    const row = await repo.storeFinalResult(
      {
        v: 1,
        traceId,
        measurementId: id,
        agentId: "fra",
        status: "done",
        target: "198.18.0.2",
        address: "198.18.0.2",
        hops,
        stoppedBy: "destination",
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
      },
      {
        verdict: "problem",
        findings: [
          {
            code: "real-loss",
            severity: "problem",
            hops: [2],
            region: "B",
            evidence: `loss at ${imgName}`,
            advice: `contact ${scriptName}`,
          },
        ],
      },
    );
    expect(row).toBeDefined();
    if (row) publishTraceChange(nc, row);
    await page.waitForSelector(`#trace-${traceId}[data-status="done"] .verdict`);
    expect(await names()).toEqual([scriptName, imgName]);
    expect(await page.locator(`#trace-${traceId} .finding-evidence`).textContent()).toBe(
      `loss at ${imgName}`,
    );
    expect(await page.locator("img").count()).toBe(0);
    await page.screenshot({ path: shot("09-hostile-names"), fullPage: true });

    for (const path of [`/m/${id}`, `/compare/${id}`]) {
      const fresh = await newPage();
      await fresh.goto(`${url}${path}`);
      expect(await fresh.locator("img").count()).toBe(0);
      expect(await fresh.locator("script:not([src])").count()).toBe(0);
      expect(await fresh.locator("body").textContent()).toContain(scriptName);
      expect(fresh.dialogs).toEqual([]);
      await fresh.close();
    }
    const exported = await (await fetch(`${url}/m/${id}.html`)).text();
    expect(exported).not.toContain("<script>alert");
    expect(exported).not.toContain("<img src=x");
    expect(exported).toContain("&lt;script&gt;alert(1)&lt;/script&gt;.evil");
    expect(page.dialogs).toEqual([]);
    await page.close();

    function stored() {
      return {
        options: {
          protocol: "icmp" as const,
          count: 10,
          interval: 1,
          size: 64,
          firstTtl: 1,
          maxTtl: 30,
          maxUnknown: 12,
          timeout: 10,
          gracePeriod: 5,
          tos: 0,
          pinFlow: false,
          mda: false,
        },
      };
    }
  });
});

/**
 * Publishes one progress message as agent fra would and waits until its last hop's row is on the
 * live page; once more if the page's stream subscribed just after the first publish.
 */
async function publishProgressUntilShown(
  page: Page,
  nc: NatsConnection,
  trace: Pick<ProgressMessage, "traceId" | "cycle" | "address" | "hops">,
): Promise<void> {
  const progress: ProgressMessage = {
    v: 1,
    agentId: "fra",
    seq: 1,
    sentAt: new Date().toISOString(),
    ...trace,
  };
  const publish = () => nc.publish(subjects.progress("fra", trace.traceId), JSON.stringify(progress));
  const last = `#trace-${trace.traceId} tr.hop[data-ttl="${trace.hops.at(-1)?.ttl}"]`;
  publish();
  await page.waitForSelector(last, { timeout: 5_000 }).catch(async () => {
    publish();
    await page.waitForSelector(last, { timeout: 10_000 });
  });
}
