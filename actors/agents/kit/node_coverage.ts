import { join } from "node:path";

/**
 * Line coverage of a Node project's tests from V8's own coverage: the test command runs with
 * `NODE_V8_COVERAGE` (every node process it starts writes what ran), then a small script, in the
 * same sandboxed process, reads what was written and prints one line, which the test run's
 * recorded output keeps (so a replay reads the same coverage without running anything). A line
 * counts as run when V8's innermost block covering its first character ran; blank lines,
 * `node_modules` and test files are left out. Written by hand: c8 and v8-to-istanbul would have to
 * be installed into the project under test, and the sandbox has no network.
 */

/** The coverage a test run reported. */
export interface Coverage {
  tool: string;
  linesCovered: number;
  linesTotal: number;
  /** Percent of lines run, two decimals. */
  pct: number;
}

const FOLDER = ".troupe-coverage";

const SUMMARIZE = `"use strict";
const fs = require("fs"), path = require("path");
const [dir, root] = process.argv.slice(2);
const TEST = /(^|\\/)(tests?|__tests__|spec)\\/|\\.(test|spec)\\.[cm]?[jt]sx?$|(^|\\/)test[-_][^/]*$/;
const files = new Map();
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  let data;
  try { data = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")); } catch { continue; }
  for (const script of data.result || []) {
    if (!script.url.startsWith("file://")) continue;
    const file = decodeURIComponent(new URL(script.url).pathname);
    const rel = path.relative(root, file);
    if (rel.startsWith("..") || rel.includes("node_modules") || rel.startsWith("${FOLDER}") || TEST.test(rel)) continue;
    let source;
    try { source = fs.readFileSync(file, "utf8"); } catch { continue; }
    const counts = new Int32Array(source.length).fill(-1);
    // Functions come outer first, and each function's blocks after it: inner ranges win.
    for (const fn of script.functions) for (const r of fn.ranges) counts.fill(r.count, r.startOffset, Math.min(r.endOffset, source.length));
    const lines = files.get(rel) || new Map();
    let offset = 0;
    source.split("\\n").forEach((text, i) => {
      const first = text.search(/\\S/);
      if (first >= 0 && counts[offset + first] >= 0) lines.set(i, lines.get(i) || counts[offset + first] > 0);
      offset += text.length + 1;
    });
    files.set(rel, lines);
  }
}
let covered = 0, total = 0;
for (const lines of files.values()) for (const ran of lines.values()) { total++; if (ran) covered++; }
console.log("troupe-coverage: lines " + covered + "/" + total + " in " + files.size + " files");
`;

/** Writes the summarizer into the project's folder (a scratch copy); returns the wrapped command. */
export async function withNodeCoverage(dir: string, test: string): Promise<string> {
  await Deno.mkdir(join(dir, FOLDER), { recursive: true });
  await Deno.writeTextFile(join(dir, FOLDER, "summarize.cjs"), SUMMARIZE);
  return [
    `export NODE_V8_COVERAGE="$PWD/${FOLDER}/v8"`,
    test,
    "troupe_status=$?",
    `node ${FOLDER}/summarize.cjs "$NODE_V8_COVERAGE" "$PWD" || true`,
    "exit $troupe_status",
  ].join("\n");
}

/** The coverage line a wrapped run printed, if it did and measured any line. */
export function readCoverage(output: string): Coverage | undefined {
  const m = output.match(/^troupe-coverage: lines (\d+)\/(\d+) in \d+ files$/m);
  if (!m || Number(m[2]) === 0) return undefined;
  const [covered, total] = [Number(m[1]), Number(m[2])];
  return {
    tool: "V8 (NODE_V8_COVERAGE)",
    linesCovered: covered,
    linesTotal: total,
    pct: Math.round((covered / total) * 10_000) / 100,
  };
}
