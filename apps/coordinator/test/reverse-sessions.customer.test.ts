import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  MeasurementView,
  type ReverseSessionCreated,
  ReverseSessionUploaded,
  type ReverseSessionView,
  ReverseSessionView as ReverseSessionViewSchema,
} from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UPLOAD_MAX_BYTES } from "../src/reverse-sessions/customer";
import { type AgentProcess, type Stack, startAgentsOnline, startStack, waitFor } from "./harness";
import { expectError } from "./kit/http";

const run = promisify(execFile);

/** mtr as the customer runs it, here towards the server agent on this machine (one hop). */
async function mtr(...args: string[]): Promise<string> {
  const { stdout } = await run("mtr", ["-n", "-c", "10", "-i", "0.2", "-G", "1", ...args, "127.0.0.1"]);
  return stdout;
}

/**
 * The customer's link of a reverse session (nothing to install): real nats-server, PGlite, the
 * coordinator and a server agent on this machine; the customer is this machine too (127.0.0.1), its
 * forward leg the real mtr's output. The lab test does the same from behind the lab's NAT.
 */
describe("reverse sessions: the customer's link and upload", () => {
  let stack: Stack;
  let url: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    stack = await startStack("pglite", { sessionEveryMs: 200 });
    url = stack.coordinator.url;
    await startAgentsOnline(stack, agents, [{ id: "srv" }]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.stop();
  });

  const create = async (body: unknown = { server: "srv", count: 10, interval: 0.2 }) => {
    const res = await fetch(`${url}/api/v1/reverse-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as ReverseSessionCreated;
  };
  const session = async (id: string) =>
    ReverseSessionViewSchema.parse(await (await fetch(`${url}/api/v1/reverse-sessions/${id}`)).json());
  const upload = (
    s: ReverseSessionCreated,
    body: RequestInit["body"],
    headers: Record<string, string> = {},
  ) => fetch(s.uploadUrl, { method: "POST", body, headers });
  const done = (id: string) =>
    waitFor(
      `session ${id} done`,
      async () => {
        const v = await session(id);
        return v.status === "done" ? v : undefined;
      },
      60_000,
    );

  /** Both legs and their comparison, as a finished session from the link shows them. */
  function expectOneReading(v: ReverseSessionView, format: string) {
    expect(v.customer.publicAddress).toBe("127.0.0.1");
    expect(v.customer.agentId).toBeNull();
    expect(v.legs).toHaveLength(1);
    const leg = v.legs[0];
    expect(leg?.status).toBe("done");
    expect(leg?.forward.origin).toBe("upload");
    expect(leg?.forward.agentId).toBeUndefined();
    expect(leg?.forward.upload?.format).toBe(format);
    expect(leg?.forward.status).toBe("done");
    expect(leg?.forward.diagnosis?.verdict).toBe("clean");
    expect(leg?.reverse?.origin).toBe("agent");
    expect(leg?.reverse?.agentId).toBe("srv");
    expect(leg?.reverse?.target).toBe("127.0.0.1");
    expect(leg?.reverse?.status).toBe("done");
    expect(leg?.comparison?.verdict).toBe("symmetric");
  }

  it("the create answer carries a customer link and an upload URL with the session's token", async () => {
    const s = await create();
    const token = new URL(s.joinUrl).searchParams.get("token");
    expect(s.customerUrl).toBe(`${url}/api/v1/reverse-sessions/${s.id}/customer?token=${token}`);
    expect(s.uploadUrl).toBe(`${url}/api/v1/reverse-sessions/${s.id}/upload?token=${token}`);
  });

  it("opening the link shows the page and records the address, and starts nothing (link previewers)", async () => {
    const s = await create();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(s.customerUrl, {
        headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      const page = await res.text();
      expect(page).toContain("mtr -r -w -b -c 10 127.0.0.1 | curl -fsS --data-binary @- &#39;");
      expect(page).toContain(`action="${s.customerUrl.replace(/&/g, "&amp;")}"`);
    }
    const v = await session(s.id);
    expect(v.status).toBe("waiting");
    expect(v.customer.publicAddress).toBe("127.0.0.1");
    expect(v.customer.linkOpenedAt).not.toBeNull();
    expect(v.legs).toEqual([]);
    const windows = await (
      await fetch(s.customerUrl, { headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" } })
    ).text();
    expect(windows.indexOf("WinMTR")).toBeLessThan(windows.indexOf("mtr -r -w"));
  });

  it("a wrong token is refused: 401 to a script, a page saying so to a browser", async () => {
    const s = await create();
    const bad = s.customerUrl.replace(/token=[^&]+/, "token=wrong");
    await expectError(await fetch(bad), 401, "invalid_token");
    const page = await fetch(bad, { headers: { accept: "text/html" } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain("the join token is missing or wrong");
    await expectError(await fetch(bad, { method: "POST" }), 401, "invalid_token");
    await expectError(
      await fetch(s.uploadUrl.replace(/token=[^&]+/, "token=wrong"), { method: "POST", body: "x" }),
      401,
      "invalid_token",
    );
  });

  it("an mtr --json uploaded first, then the start POST: the session ends done with both legs and their comparison", async () => {
    const s = await create();
    const json = await mtr("--json");
    const res = await upload(s, json, { "content-type": "application/json" });
    expect(res.status).toBe(201);
    const up = ReverseSessionUploaded.parse(await res.json());
    expect(up.trace).toMatchObject({ origin: "upload", status: "done", address: "127.0.0.1" });
    expect(up.trace.agentId).toBeUndefined();
    // JSON carries no time: the upload's stands in, and says so.
    expect(up.trace.upload).toMatchObject({
      format: "mtr-json",
      timeFrom: "upload",
      uploadedFrom: "127.0.0.1",
    });
    expect(up.trace.upload?.timeNote).toMatch(/carries no start time/);
    expect(up.session.status).toBe("waiting");
    expect(up.session.customer.uploadTraceId).toBe(up.trace.id);

    const started = await fetch(s.customerUrl, { method: "POST" });
    expect(started.status).toBe(202);
    expect(ReverseSessionViewSchema.parse(await started.json()).status).toBe("running");
    // A second press changes nothing.
    expect((await fetch(s.customerUrl, { method: "POST" })).status).toBe(202);
    const v = await done(s.id);
    expectOneReading(v, "mtr-json");
    expect(v.legs[0]?.forward.id).toBe(up.trace.id);
    // The uploaded trace is a measurement's trace like any other.
    const m = MeasurementView.parse(
      await (await fetch(`${url}/api/v1/measurements/${up.trace.measurementId}`)).json(),
    );
    expect(m.status).toBe("done");
    expect(m.traces[0]?.origin).toBe("upload");
  }, 90_000);

  it("the start POST first, then an mtr -r -w report: its Start: is the trace's time; done with both legs", async () => {
    const s = await create();
    expect((await fetch(s.customerUrl, { method: "POST" })).status).toBe(202);
    const running = await session(s.id);
    expect(running.legs[0]?.forward).toMatchObject({ origin: "upload", status: "queued" });
    const report = await mtr("-r", "-w");
    const res = await upload(s, report, { "content-type": "text/plain" });
    expect(res.status).toBe(201);
    const up = ReverseSessionUploaded.parse(await res.json());
    const start = /^Start: (\S+)/.exec(report)?.[1] as string;
    expect(up.trace.startedAt).toBe(new Date(start.replace(/(\d\d)(\d\d)$/, "$1:$2")).toISOString());
    expect(up.trace.upload?.timeFrom).toBe("format");
    expectOneReading(await done(s.id), "mtr-report");
    await expectError(await upload(s, report), 410, "session_ended");
  }, 90_000);

  it("CSV, XML and a pasted report (form field) are read too; one upload per session", async () => {
    const forms: [string, () => Promise<RequestInit["body"]>, Record<string, string>, string][] = [
      ["mtr-csv", () => mtr("-C"), {}, "format"],
      ["mtr-xml", () => mtr("--xml"), { "content-type": "application/xml" }, "upload"],
      [
        "mtr-report",
        async () => new URLSearchParams({ report: await mtr("-r") }).toString(),
        { "content-type": "application/x-www-form-urlencoded" },
        "format",
      ],
      [
        "mtr-report",
        async () => {
          const f = new FormData();
          f.set("file", new Blob([await mtr("-r", "-w")]), "mtr.txt");
          return f;
        },
        {},
        "format",
      ],
    ];
    for (const [format, body, headers, timeFrom] of forms) {
      const s = await create();
      const res = await upload(s, await body(), headers);
      expect(res.status, format).toBe(201);
      const up = ReverseSessionUploaded.parse(await res.json());
      expect(up.trace.upload).toMatchObject({ format, timeFrom });
      expect(up.trace.hops.map((h) => h.host)).toEqual(["127.0.0.1"]);
      await expectError(await upload(s, await mtr("--json")), 409, "already_uploaded");
    }
  }, 90_000);

  it("bad uploads get 4xx naming what and where, and store nothing", async () => {
    const s = await create();
    const garbage = await expectError(
      await upload(s, "<script>alert(1)</script>\nrm -rf /"),
      422,
      "unreadable_upload",
      "upload",
    );
    expect(garbage.message).toContain('the text begins "<script>alert(1)</script>"');
    const report = await mtr("-r");
    const broken = await expectError(
      await upload(s, report.replace(/(\n\s+1\.\|-- \S+\s+\S+\s+)10/, "$1ten")),
      422,
      "unreadable_upload",
      "upload",
    );
    expect(broken.message).toBe('line 3 of the mtr report: "ten" is not a number (column 2 of 7)');
    const old = await expectError(
      await upload(s, report.replace(/^Start: .*$/m, "Start: 2020-01-01T00:00:00+0000")),
      422,
      "upload_too_old",
      "upload",
    );
    expect(old.message).toMatch(
      /^the trace started at 2020-01-01T00:00:00.000Z, before this session was created/,
    );
    const json = (await mtr("--json")).replace('"dst": "127.0.0.1"', '"dst": "127.0.0.2"');
    const wrong = await expectError(await upload(s, json), 422, "wrong_destination", "upload");
    expect(wrong.message).toBe("the trace goes to 127.0.0.2; this session's trace must go to 127.0.0.1");
    await expectError(await upload(s, "x".repeat(UPLOAD_MAX_BYTES + 1)), 413, "body_too_large");
    const v = await session(s.id);
    expect(v.customer.uploadTraceId).toBeNull();
  }, 60_000);

  it("from the page's forms: start and upload answer 303 to the page; a refused upload is the page with the reason, escaped", async () => {
    const s = await create();
    const browser = { accept: "text/html" };
    const started = await fetch(s.customerUrl, { method: "POST", headers: browser, redirect: "manual" });
    expect(started.status).toBe(303);
    expect(started.headers.get("location")).toBe(s.customerUrl);
    const form = new FormData();
    form.set("report", "<img src=x onerror=alert(1)>");
    const refused = await fetch(s.uploadUrl, { method: "POST", body: form, headers: browser });
    expect(refused.status).toBe(422);
    const page = await refused.text();
    expect(page).toContain('data-error-code="unreadable_upload"');
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toContain("<img src=x");
    // A WinMTR export whose host column holds markup: stored as text, shown escaped.
    const winmtr = [
      "|------------------------------------------------------------------------------------------|",
      "|                                      WinMTR statistics                                   |",
      "|                       Host              -   %  | Sent | Recv | Best | Avrg | Wrst | Last |",
      "|------------------------------------------------|------|------|------|------|------|------|",
      "|                <script>alert(1)</script> -    0 |   10 |   10 |    0 |    0 |    0 |    0 |",
      "|________________________________________________|______|______|______|______|______|______|",
      "   WinMTR v0.92 GPL V2 by Appnor MSP - Fully Managed Hosting & Cloud Provider",
    ].join("\r\n");
    const file = new FormData();
    file.set("file", new Blob([winmtr]), "winmtr.txt");
    const sent = await fetch(s.uploadUrl, {
      method: "POST",
      body: file,
      headers: browser,
      redirect: "manual",
    });
    expect(sent.status).toBe(303);
    await done(s.id);
    for (const shown of [
      await (await fetch(s.customerUrl)).text(),
      await (await fetch(`${url}/r/${s.id}`)).text(),
    ]) {
      expect(shown).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(shown).not.toContain("<script>alert(1)");
    }
  }, 90_000);

  it("a session started from the link refuses a join agent, and one joined refuses the link's start", async () => {
    const s = await create();
    expect((await fetch(s.customerUrl, { method: "POST" })).status).toBe(202);
    await expectError(await fetch(s.joinUrl, { method: "POST" }), 409, "started_from_link");
    const t = await create();
    expect((await fetch(t.joinUrl, { method: "POST" })).status).toBe(200);
    await expectError(await fetch(t.customerUrl, { method: "POST" }), 409, "joined_with_agent");
  });
});
