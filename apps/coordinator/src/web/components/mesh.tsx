/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, PathTestView } from "@lg/protocol";
import { ms, pct } from "../format";
import { Layout } from "./layout";

/** What a mesh cell shows: the way from the row's PoP to the column's, as its last path test saw it. */
export interface MeshCell {
  test: PathTestView;
  /** Loss and latency at the last hop of the forward trace. */
  lossPct: number | null;
  avgMs: number | null;
  asymmetric: boolean;
  problem: boolean;
  /** A direction loses packets and the two traces cannot tell which. */
  undetermined: boolean;
}

/** The latest path test per ordered PoP pair, reduced to what the matrix shows. */
export function meshCells(tests: PathTestView[]): Map<string, MeshCell> {
  const cells = new Map<string, MeshCell>();
  const sorted = [...tests].sort((x, y) => x.created.localeCompare(y.created));
  for (const test of sorted) {
    if (typeof test.b !== "string") continue;
    const last = [...test.forward.hops].reverse().find((h) => h.recv > 0 || h.host !== null);
    cells.set(`${test.a}>${test.b}`, {
      test,
      lossPct: last ? last.lossPct : null,
      avgMs: last && last.recv > 0 ? last.avg : null,
      asymmetric: test.comparison?.verdict === "asymmetric",
      undetermined: test.comparison?.faultDirection === "undetermined",
      problem:
        (test.comparison ? test.comparison.faultDirection !== "none" : false) ||
        test.forward.diagnosis?.verdict === "problem" ||
        test.forward.status === "failed",
    });
  }
  return cells;
}

/** `/mesh`: every PoP to every other PoP; rows are sources, columns destinations. */
export function MeshPage(props: { pops: AgentView[]; tests: PathTestView[] }) {
  const cells = meshCells(props.tests);
  const pops = [...props.pops].sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
  return (
    <Layout title="PoP mesh" current="/mesh">
      <section class="intro">
        <h1>PoP mesh</h1>
        <p class="muted">
          Operators' pages: <a href="/monitors">monitors</a> · PoP mesh
        </p>
        <p class="lede">
          Each cell is the latest path test from the row's PoP to the column's: loss and latency at the far
          end, <span class="asym-mark">⇄≠</span> where the way back takes other routers, and{" "}
          <span class="dir-mark">which way?</span> where a direction loses packets and the evidence cannot
          tell which. Open a cell for the full path test.
        </p>
        <p class="hint">
          Cells come from path-test monitors between two PoPs: POST /api/v1/monitors with{" "}
          <code>{'{"kind": "path-test", "every": 300, "pathTest": {"a": "fra", "b": "sin"}}'}</code> adds one.
        </p>
      </section>
      <div class="table-scroll card">
        <table class="mesh">
          <thead>
            <tr>
              <th scope="col">from ↓ to →</th>
              {pops.map((p) => (
                <th scope="col">
                  <span class="pop-name">{p.id}</span>
                  <span class="pop-region">{p.region}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {pops.map((row) => (
              <tr>
                <th scope="row">
                  <span class="pop-name">{row.id}</span>
                  <span class="pop-region">{row.region}</span>
                </th>
                {pops.map((col) => {
                  if (row.id === col.id) return <td class="cell-self">—</td>;
                  const cell = cells.get(`${row.id}>${col.id}`);
                  if (!cell) return <td class="cell-none muted">not tested</td>;
                  return (
                    <td class={cell.problem ? "cell-bad" : "cell-ok"}>
                      <a
                        href={`/p/${encodeURIComponent(cell.test.id)}`}
                        aria-label={`path test ${row.id} to ${col.id}`}
                      >
                        <span class={cell.lossPct ? "lossy" : ""}>
                          {cell.lossPct === null ? "—" : pct(cell.lossPct)}
                        </span>
                        <span class="cell-ms">{cell.avgMs === null ? "" : `${ms(cell.avgMs)} ms`}</span>
                        {cell.undetermined ? (
                          <span
                            class="dir-mark"
                            title="a direction loses packets, and the evidence cannot tell which"
                          >
                            which way?
                          </span>
                        ) : null}
                        {cell.asymmetric ? (
                          <span class="asym-mark" title="asymmetric: the way back takes other routers">
                            ⇄≠
                          </span>
                        ) : null}
                      </a>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
