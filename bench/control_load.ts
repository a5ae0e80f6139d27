/**
 * The control endpoint's reads under load: while many runs go at once on one server, how long
 * `GET /runs` and `GET /runs/{id}` take (p50, p99), as a client polling the page would see them.
 * Reads must not queue behind the runs' writes.
 */
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ControlServer } from "../control/mod.ts";
import type { Section } from "./figure.ts";
import { serverFolders } from "../tests/control_helpers.ts";

const FIXTURE = new URL("../tests/fixtures/repos/go_mod", import.meta.url).pathname;

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

/** `runs` runs submitted at once; reads polled until they have all ended. */
export async function benchControlLoad(quick: boolean): Promise<Section> {
  const count = quick ? 2 : Number(Deno.env.get("BENCH_RUNS") ?? 20);
  const tmp = await Deno.makeTempDir({ prefix: "troupe-bench-load-" });
  try {
    await cp(FIXTURE, join(tmp, "app"), { recursive: true });
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: { repos: [tmp], outRoot: join(tmp, "out") },
    });
    const headers = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
    const ids = await Promise.all(Array.from({ length: count }, async () => {
      const res = await fetch(`${server.url}/runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ repo: "app" }),
      });
      if (res.status !== 202) throw new Error(`a run was refused: ${await res.text()}`);
      return (await res.json()).runId as string;
    }));
    const list: number[] = [];
    const one: number[] = [];
    const timed = async (path: string, into: number[]) => {
      const t = performance.now();
      const res = await fetch(`${server.url}${path}`, { headers });
      await res.arrayBuffer();
      into.push(performance.now() - t);
    };
    const ended = Promise.all(ids.map((id) => server.runs.settled(id)));
    let done = false;
    void ended.then(() => done = true);
    // A client polling like the page does (bounded: 10 minutes).
    for (let i = 0; !done && i < 12_000; i++) {
      await timed("/runs", list);
      await timed(`/runs/${ids[i % ids.length]}`, one);
      await new Promise((r) => setTimeout(r, 50));
    }
    await ended;
    return {
      figures: [
        {
          name: `control under ${count} runs: GET /runs p50`,
          value: percentile(list, 0.5),
          unit: "ms",
        },
        {
          name: `control under ${count} runs: GET /runs p99`,
          value: percentile(list, 0.99),
          unit: "ms",
          target: "≤ 250",
        },
        {
          name: `control under ${count} runs: GET /runs/{id} p50`,
          value: percentile(one, 0.5),
          unit: "ms",
        },
        {
          name: `control under ${count} runs: GET /runs/{id} p99`,
          value: percentile(one, 0.99),
          unit: "ms",
          target: "≤ 250",
        },
      ],
      ratios: [],
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
