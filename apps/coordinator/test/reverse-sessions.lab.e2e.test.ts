import {
  type ReverseSessionCreated,
  type ReverseSessionView,
  ReverseSessionView as ReverseSessionViewSchema,
} from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { waitFor } from "./harness";
import { labStackForSuite } from "./lab-suite";

/**
 * The customer behind the reference lab's NAT with nothing installed but curl and mtr (cust, on
 * its private LAN behind nat): it opens its link with curl, starts the reverse leg with a POST and
 * uploads the trace it ran itself. PoPs fra and sin and the neutral VM vm run real agents.
 */
describe("lab end-to-end: a customer behind the NAT runs a reverse session from its link", () => {
  const env = labStackForSuite();

  async function create(body: unknown): Promise<ReverseSessionCreated> {
    // Asked on the lab-side address, so the links work from inside the lab.
    const res = await fetch(`${env.labUrl}/api/v1/reverse-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    expect(res.status, JSON.stringify(answer)).toBe(201);
    return answer as ReverseSessionCreated;
  }

  /** A command in the customer's shell (sh -c), which must succeed. */
  async function inCustomer(script: string, ...args: string[]): Promise<string> {
    const r = await env.lab.exec("cust", ["sh", "-c", script, "sh", ...args], { timeoutMs: 90_000 });
    expect(r.code, `${script}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r.stdout;
  }

  const done = (id: string) =>
    waitFor(
      `session ${id} done`,
      async () => {
        const v = ReverseSessionViewSchema.parse(
          await (await fetch(`${env.url}/api/v1/reverse-sessions/${id}`)).json(),
        );
        return v.status === "done" ? v : undefined;
      },
      120_000,
    );

  /** The customer's leg: its upload to `agentId`, and `agentId`'s trace back to the NAT, read together. */
  function expectCustomerLeg(v: ReverseSessionView, agentId: string, format: string) {
    const nat = env.lab.addr("nat");
    expect(v.customer.publicAddress).toBe(nat);
    const leg = v.legs.find((l) => l.b === agentId);
    expect(leg?.status).toBe("done");
    expect(leg?.forward).toMatchObject({ origin: "upload", status: "done" });
    expect(leg?.forward.agentId).toBeUndefined();
    expect(leg?.forward.upload?.format).toBe(format);
    // The customer's own network is hop 1 (the NAT's side of the private LAN 198.19.11.0/24); its
    // trace ends at the agent.
    expect(leg?.forward.hops[0]?.host).toMatch(/^198\.19\.11\./);
    expect(leg?.forward.hops.at(-1)?.host).toBe(leg?.bAddress);
    expect(leg?.reverse).toMatchObject({ origin: "agent", agentId, target: nat, status: "done" });
    expect(leg?.reverse?.hops.at(-1)?.host).toBe(nat);
    expect(leg?.comparison?.verdict).toBeDefined();
    expect(leg?.note).toContain("are the customer's network behind its NAT");
    return leg;
  }

  it("server fra: the link opened with curl, a POST starts the reverse leg, an mtr --json it ran is uploaded; done with both legs and their comparison", async () => {
    const s = await create({ server: "fra", count: 10, interval: 0.5 });
    const fra = env.lab.addr("fra");
    // Opening the link (a GET) records the NAT's address and starts nothing.
    const page = await inCustomer('curl -fsS "$1"', s.customerUrl);
    expect(page).toContain(`mtr -r -w -b -c 10 ${fra} | curl -fsS --data-binary @-`);
    const opened = ReverseSessionViewSchema.parse(
      await (await fetch(`${env.url}/api/v1/reverse-sessions/${s.id}`)).json(),
    );
    expect(opened).toMatchObject({ status: "waiting", legs: [] });
    expect(opened.customer.publicAddress).toBe(env.lab.addr("nat"));
    // The POST starts the reverse leg.
    const started = JSON.parse(await inCustomer('curl -fsS -X POST "$1"', s.customerUrl));
    expect(started.status).toBe("running");
    // The customer's own trace, as it would run it, uploaded as it came out of mtr.
    const uploaded = JSON.parse(
      await inCustomer(
        'mtr -n --json -c 10 -i 0.5 "$1" | curl -fsS -H "content-type: application/json" --data-binary @- "$2"',
        fra,
        s.uploadUrl,
      ),
    );
    expect(uploaded.trace.upload.timeFrom).toBe("upload");
    const v = await done(s.id);
    expect(v.legs).toHaveLength(1);
    expectCustomerLeg(v, "fra", "mtr-json");
  }, 240_000);

  it("a host without an agent, through the neutral VM: the POST first, then an mtr -r -w report; done with the customer's leg to vm and vm's to the host", async () => {
    const server = env.lab.scenarios.clean.target;
    const s = await create({ server: { host: server }, via: "vm", count: 10, interval: 0.5 });
    await inCustomer('curl -fsS -o /dev/null "$1" && curl -fsS -o /dev/null -X POST "$1"', s.customerUrl);
    const vm = env.lab.addr("vm");
    const uploaded = JSON.parse(
      await inCustomer('mtr -n -r -w -c 10 -i 0.5 "$1" | curl -fsS --data-binary @- "$2"', vm, s.uploadUrl),
    );
    expect(uploaded.trace.upload).toMatchObject({ format: "mtr-report", timeFrom: "format" });
    const v = await done(s.id);
    expect(v.legs).toHaveLength(2);
    expectCustomerLeg(v, "vm", "mtr-report");
    const vmToServer = v.legs.find((l) => l.a === "vm");
    expect(vmToServer?.b).toEqual({ host: server });
    expect(vmToServer?.forward.hops.at(-1)?.host).toBe(server);
  }, 240_000);

  it("a bad upload from behind the NAT gets a 4xx with the reason", async () => {
    const s = await create({ server: "fra", count: 10, interval: 0.5 });
    const r = await env.lab.exec(
      "cust",
      [
        "sh",
        "-c",
        'printf "HOST: pc Loss%% Snt\\n  1.|-- 10.0.0.1 zero 10\\n" | curl -sS -w "\\n%{http_code}" --data-binary @- "$1"',
        "sh",
        s.uploadUrl,
      ],
      { timeoutMs: 30_000 },
    );
    const [body, status] = r.stdout.trim().split("\n");
    expect(status).toBe("422");
    expect(JSON.parse(body as string).error).toEqual({
      code: "unreadable_upload",
      message: 'line 2 of the mtr report: "zero" is not a number (column 1 of 2)',
      field: "upload",
    });
  }, 60_000);
});
