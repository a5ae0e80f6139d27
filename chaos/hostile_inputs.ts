import { join } from "node:path";
import type { Ledger } from "../ledger/mod.ts";
import { loadCompliancePack, loadPolicyFile, readKeyFile, readTrustList } from "../policies/mod.ts";
import { checkCompliance } from "../actors/agents/kit/compliance.ts";
import { scan } from "../actors/agents/scanner.ts";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { tryGeneratedCode } from "./hostile_code.ts";
import { tryPlugins } from "./hostile_plugins.ts";

export type { Tried } from "./tried.ts";
import type { Tried } from "./tried.ts";

/** Statements a read-only SQL user must not get through, and reads of files it must not see. */
const SQL_REFUSED = [
  "DELETE FROM events",
  "UPDATE events SET payload = '{}'",
  "INSERT INTO events SELECT * FROM events LIMIT 1",
  "DROP TABLE events",
  "DROP VIEW task_outcomes",
  "CREATE TABLE t AS SELECT 1",
  "CREATE VIEW v AS SELECT 1",
  "ALTER TABLE events ADD COLUMN x INT",
  "ATTACH '/tmp/troupe-chaos-attached.duckdb' AS other",
  "COPY events TO '/tmp/troupe-chaos-copy.csv'",
  "COPY (SELECT 1) TO '/tmp/troupe-chaos-copy2.parquet' (FORMAT parquet)",
  "EXPORT DATABASE '/tmp/troupe-chaos-export'",
  "INSTALL httpfs",
  "LOAD httpfs",
  "SET enable_external_access = true",
  "PRAGMA enable_profiling",
  "SELECT * FROM read_csv('/etc/passwd')",
  "SELECT * FROM read_text('/etc/hostname')",
  "SELECT * FROM read_blob('/etc/hostname')",
  "SELECT * FROM read_json('/etc/os-release')",
  "SELECT * FROM read_parquet('/tmp/*.parquet')",
  "SELECT * FROM glob('/etc/*')",
  "SELECT * FROM '/etc/passwd'",
  "CHECKPOINT",
  "BEGIN TRANSACTION; DELETE FROM events; COMMIT",
  "SELECT 1; DELETE FROM events",
  "CALL pragma_version(); DROP TABLE events",
  "CREATE MACRO m(x) AS x",
  "CREATE SEQUENCE s",
  "VACUUM",
];

async function trySql(ledger: Ledger): Promise<Tried[]> {
  const before = (await ledger.query("SELECT count(*) AS n FROM events")).rows[0].n;
  const out: Tried[] = [];
  for (const sql of SQL_REFUSED) {
    let escaped: string | undefined;
    try {
      const r = await ledger.query(sql, { timeoutMs: 5_000, maxRows: 100 });
      escaped = `ran and returned ${r.rows.length} row(s)`;
    } catch { /* refused, as promised */ }
    out.push({ area: "sql", input: sql, ...(escaped ? { escaped } : {}) });
  }
  // Queries that would run forever or return a billion rows are cut off.
  for (
    const sql of [
      "SELECT count(*) FROM range(100000000000) a",
      "SELECT * FROM range(1000000000)",
      "SELECT * FROM range(100000) a, range(100000) b",
    ]
  ) {
    const t = performance.now();
    let escaped: string | undefined;
    try {
      const r = await ledger.query(sql, { timeoutMs: 2_000, maxRows: 1_000 });
      if (r.rows.length > 1_000) escaped = `returned ${r.rows.length} rows past its limit`;
    } catch { /* stopped, as promised */ }
    if (performance.now() - t > 30_000) escaped = "ran past its time limit";
    out.push({ area: "sql", input: sql, ...(escaped ? { escaped } : {}) });
  }
  const after = (await ledger.query("SELECT count(*) AS n FROM events")).rows[0].n;
  if (after !== before) {
    out.push({
      area: "sql",
      input: "(the whole set)",
      escaped: `events went ${before} → ${after}`,
    });
  }
  for (const f of ["/tmp/troupe-chaos-copy.csv", "/tmp/troupe-chaos-attached.duckdb"]) {
    if (await Deno.stat(f).then(() => true, () => false)) {
      out.push({ area: "sql", input: f, escaped: "a file was written" });
      await Deno.remove(f).catch(() => {});
    }
  }
  return out;
}

/** Messages of every wrong shape, size and kind, to an actor with a schema, inline and worker. */
async function tryMessages(): Promise<Tried[]> {
  const out: Tried[] = [];
  const cyclic: Record<string, unknown> = { type: "add", n: 1 };
  cyclic.self = cyclic;
  const wrong: [string, unknown][] = [
    ["undefined", undefined],
    ["null", null],
    ["a number", 42],
    ["a string", "add"],
    ["an empty object", {}],
    ["an unknown type", { type: "launch" }],
    ["a missing field", { type: "add" }],
    ["a field of the wrong type", { type: "add", n: "one" }],
    ["NaN", { type: "add", n: NaN }],
    ["an array", [{ type: "add", n: 1 }]],
    ["a cyclic object", cyclic],
    ["a 4 MiB string", { type: "add", n: 1, pad: "x".repeat(4 * 2 ** 20) }],
    ["a deep object", JSON.parse("[".repeat(2000) + "]".repeat(2000))],
    ["a function", { type: "add", n: () => 1 }],
    ["a symbol", { type: "add", n: Symbol("x") }],
    ["a BigInt", { type: "add", n: 10n }],
    ["a Date", { type: "add", n: new Date() }],
    ["a Map", new Map([["type", "add"]])],
    ["a typed array", new Uint8Array(1024)],
    ["a prototype-polluting key", JSON.parse('{"type":"add","n":1,"__proto__":{"polluted":true}}')],
  ];
  await using system = await ActorSystem.start();
  const behaviour = new URL("../actors/examples/counter.ts", import.meta.url).href;
  for (const isolation of ["inline", "worker"] as const) {
    const ref = await system.spawn({
      id: `target-${isolation}`,
      behaviour,
      isolation,
      mailbox: { capacity: 50, overflow: "reject" },
    });
    for (const [what, message] of wrong) {
      let escaped: string | undefined;
      try {
        const reply = await ref.ask(message, { timeoutMs: 10_000 });
        // A message the schema lets through must not have broken the state.
        if (typeof reply !== "number" || !Number.isFinite(reply)) {
          escaped = `was accepted, and the state is now ${String(reply)}`;
        }
      } catch { /* refused with a reason, as promised */ }
      if (({} as Record<string, unknown>).polluted) escaped = "polluted Object.prototype";
      out.push({
        area: "message",
        input: `${isolation}: ${what}`,
        ...(escaped ? { escaped } : {}),
      });
    }
    // A flood far past the mailbox's bound is refused, each refusal a dead letter.
    const letters = system.events.collect((e) => e.type === "dead_letter");
    let accepted = 0;
    for (let i = 0; i < 5_000; i++) if (ref.tell({ type: "add", n: 1 })) accepted++;
    const refused = 5_000 - accepted;
    const lettered = letters.length;
    letters.stop();
    // Once the flood has drained, the actor answers again.
    let after: unknown;
    for (let i = 0; i < 200; i++) {
      after = await ref.ask({ type: "get" }, { timeoutMs: 10_000 }).catch((e) => e);
      if (typeof after === "number") break;
      await new Promise((r) => setTimeout(r, 25));
    }
    out.push({
      area: "message",
      input: `${isolation}: a flood of 5,000 tells into a mailbox of 50`,
      ...(typeof after !== "number"
        ? { escaped: `the actor does not answer after the flood: ${after}` }
        : lettered < refused
        ? { escaped: `${refused} refused, ${lettered} dead letters` }
        : {}),
    });
  }
  // The system survived all of it: a fresh actor still answers.
  const probe = await system.spawn({
    id: "probe",
    isolation: "inline",
    behaviour: defineActor({ receive: () => "alive" }),
  });
  if ((await probe.ask("ping")) !== "alive") {
    out.push({ area: "message", input: "(after all)", escaped: "the system no longer answers" });
  }
  return out;
}

/**
 * A compliance pack whose pattern backtracks without end on the text it meets (`^(a+)+$` on a
 * long line of a's and a `!`): the check must end, with the violation it finds.
 */
async function tryBacktrackingPack(dir: string): Promise<Tried> {
  const repo = join(dir, "redos-repo");
  await Deno.mkdir(repo, { recursive: true });
  await Deno.writeTextFile(join(repo, "notes.txt"), "a".repeat(5_000) + "!\n");
  const file = join(dir, "redos-pack.yaml");
  await Deno.writeTextFile(
    file,
    "name: redos\nframework: X\ndescription: ''\ncontrols:\n  - id: r\n    title: t\n" +
      "    severity: low\n    check: { kind: absent, files: '**', pattern: '^(a+)+$' }\n",
  );
  const input = "a compliance pack whose pattern backtracks without end";
  const t = performance.now();
  let escaped: string | undefined;
  try {
    const found = await checkCompliance(await scan(repo), [], [await loadCompliancePack(file)]);
    if (found.length !== 1) escaped = `${found.length} violations instead of 1`;
  } catch (err) {
    escaped = `the check failed: ${(err as Error).message}`;
  }
  if (performance.now() - t > 5_000) escaped = `took ${Math.round(performance.now() - t)} ms`;
  return { area: "policy", input, ...(escaped ? { escaped } : {}) };
}

/**
 * Key files and trust lists that are malformed, of the wrong kind, huge or endless (a device):
 * each refused with what is wrong, without reading more than a key file can be.
 */
async function tryKeyFiles(dir: string): Promise<Tried[]> {
  const keys = join(dir, "hostile-keys");
  await Deno.mkdir(keys, { recursive: true });
  const jwk = { kty: "OKP", crv: "X25519", x: "AAAA", d: "AAAA" };
  const files: [string, string | null][] = [
    ["not-json.key.json", "{ not json"],
    ["empty.key.json", ""],
    ["wrong-shape.key.json", JSON.stringify({ name: "x", role: "approver" })],
    ["wrong-curve.key.json", JSON.stringify({ name: "x", role: "approver", jwk })],
    ["unknown-role.key.json", JSON.stringify({ name: "x", role: "emperor", jwk })],
    ["huge.key.json", JSON.stringify({ name: "x".repeat(20 << 20) })],
    ["/dev/zero", null], // never ends
  ];
  const out: Tried[] = [];
  for (const [name, text] of files) {
    const path = text === null ? name : join(keys, name);
    if (text !== null) await Deno.writeTextFile(path, text);
    const escaped = await refusedInTime(() => readKeyFile(path), "was read as a key");
    out.push({ area: "policy", input: `a key file: ${name}`, ...(escaped ? { escaped } : {}) });
  }
  await Deno.writeTextFile(join(keys, "trust.json"), JSON.stringify({ keys: [{ name: 5 }] }));
  const escaped = await refusedInTime(() => readTrustList(keys), "was read as a trust list");
  out.push({ area: "policy", input: "a malformed trust list", ...(escaped ? { escaped } : {}) });
  return out;
}

/**
 * Runs what must be refused (throw, with what is wrong) within 5 s. Returns what escaped: took
 * longer, or was accepted (`accepted` says how; undefined when accepting it is allowed too).
 */
async function refusedInTime(
  work: () => Promise<unknown>,
  accepted: string | undefined,
): Promise<string | undefined> {
  const t = performance.now();
  let escaped: string | undefined;
  try {
    await work();
    escaped = accepted;
  } catch { /* refused with what is wrong, as promised */ }
  const ms = performance.now() - t;
  return ms > 5_000 ? `took ${Math.round(ms)} ms` : escaped;
}

/** Policy files that are malformed, contradictory or hostile. */
async function tryPolicies(dir: string): Promise<Tried[]> {
  const files: [string, string, boolean][] = [
    ["empty.yaml", "", false],
    ["not-yaml.yaml", "rules: [unclosed", false],
    ["not-a-map.yaml", "- just\n- a list\n", false],
    ["no-rules.yaml", "name: x\n", false],
    [
      "bad-effect.yaml",
      "name: x\nrules:\n  - id: r\n    match: { action: fs.write }\n    effect: maybe\n",
      false,
    ],
    ["unknown-field.yaml", "name: x\nrules: []\nbackdoor: true\n", false],
    ["bad-json.json", '{"name": "x", "rules": [}', false],
    ["huge-name.yaml", `name: ${"x".repeat(100_000)}\nrules: []\n`, false],
    [
      "billion-laughs.yaml",
      `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nname: x\nrules: []\n`,
      false,
    ],
    [
      "hostile-glob.yaml",
      `name: x\nrules:\n  - id: r\n    match: { action: fs.write, resource: "${
        "*".repeat(200)
      }a" }\n    effect: deny\n`,
      true,
    ],
    ["binary.yaml", "\u0000\u0001\u0002\u0003", false],
  ];
  const out: Tried[] = [];
  out.push(await tryBacktrackingPack(dir), ...await tryKeyFiles(dir));
  for (const [name, text, mayLoad] of files) {
    const path = join(dir, name);
    await Deno.writeTextFile(path, text);
    const escaped = await refusedInTime(
      () => loadPolicyFile(path),
      mayLoad ? undefined : "was loaded",
    );
    out.push({ area: "policy", input: name, ...(escaped ? { escaped } : {}) });
  }
  return out;
}

/**
 * Every hostile input the suite tries, against real parts: the ledger's SQL, actors, sandboxes,
 * generated code, policies.
 */
export async function tryHostileInputs(
  ledger: Ledger,
  scratch: string,
  onProgress: (line: string) => void = () => {},
): Promise<Tried[]> {
  const sql = await trySql(ledger);
  onProgress(`${sql.length} SQL statements`);
  const messages = await tryMessages();
  onProgress(`${messages.length} messages`);
  const plugins = await tryPlugins();
  onProgress(`${plugins.length} plugins`);
  const code = await tryGeneratedCode(ledger, scratch);
  onProgress(`${code.length} pieces of generated code`);
  const policies = await tryPolicies(scratch);
  onProgress(`${policies.length} policy files`);
  return [...sql, ...messages, ...plugins, ...code, ...policies];
}
