/**
 * `replay --verify` of a real run: the repo-ops team on a generated repository of many files,
 * its own tests run (the run once, live), then re-executed from its record with every event
 * compared. Printed next to reading the same events raw from DuckDB and to the live run's time.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";
import { RunSession, verifyRun } from "../actors/mod.ts";
import { Ledger } from "../ledger/mod.ts";
import type { Section } from "./figure.ts";

/** A node project of `files` source files in folders of 50, with one test. */
async function bigRepo(root: string, files: number): Promise<string> {
  const repo = join(root, "repo");
  await Deno.mkdir(join(repo, "test"), { recursive: true });
  await Deno.writeTextFile(
    join(repo, "package.json"),
    JSON.stringify({ name: "big", version: "1.0.0", scripts: { test: "node --test" } }),
  );
  for (let i = 0; i < files; i++) {
    const dir = join(repo, "src", `part${Math.floor(i / 50)}`);
    if (i % 50 === 0) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, `m${i}.js`), `export const v${i} = ${i};\n`);
  }
  await Deno.writeTextFile(
    join(repo, "test", "v.test.js"),
    'import test from "node:test";\nimport assert from "node:assert";\n' +
      'import { v1 } from "../src/part0/m1.js";\ntest("v1", () => assert.equal(v1, 1));\n',
  );
  return repo;
}

/** Verify's events/s and effects/s next to a raw read; `quick`: a tiny repository. */
export async function benchVerify(quick = false): Promise<Section> {
  const files = quick ? 20 : 2_000;
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-verify-" });
  try {
    const repo = await bigRepo(dir, files);
    const path = join(dir, "ledger.duckdb");
    const ledger = await Ledger.open(path);
    let runMs: number, verifyMs: number, runId: string, events: number;
    try {
      const t0 = performance.now();
      const session = await RunSession.start(ledger, {
        repo,
        out: join(dir, "out"),
        runTests: true,
      });
      runId = (await session.run()).runId;
      runMs = performance.now() - t0;
      const t1 = performance.now();
      const result = await verifyRun(ledger, runId);
      verifyMs = performance.now() - t1;
      if (result.divergence) {
        throw new Error(`the run diverged: ${JSON.stringify(result.divergence)}`);
      }
      events = result.events;
    } finally {
      await ledger.close();
    }
    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    const start = performance.now();
    const rows = await conn.runAndReadAll(
      `SELECT * FROM events WHERE run_id = '${runId}' ORDER BY seq`,
    );
    const rawMs = performance.now() - start;
    const effects = await conn.runAndReadAll(
      `SELECT sum(json_array_length(payload, '$.effects')) FROM events WHERE run_id = '${runId}'`,
    );
    conn.closeSync();
    instance.closeSync();
    const fed = Number(effects.getRows()[0][0] ?? 0);
    if (rows.getRows().length !== events) throw new Error("the raw read saw other events");
    const size = files.toLocaleString("en");
    const verify = `replay --verify of a run on ${size} files: events`;
    return {
      figures: [
        { name: verify, value: events / (verifyMs / 1000) },
        {
          name: `replay --verify: effects fed or checked (${fed})`,
          value: fed / (verifyMs / 1000),
        },
        { name: `read the same ${events} events raw from DuckDB`, value: events / (rawMs / 1000) },
        { name: `replay --verify of a run on ${size} files`, value: verifyMs, unit: "ms" },
        { name: `the run itself, live (its tests run)`, value: runMs, unit: "ms" },
      ],
      ratios: [
        [verify, `read the same ${events} events raw from DuckDB`, ""],
        [`replay --verify of a run on ${size} files`, "the run itself, live (its tests run)", ""],
      ],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
