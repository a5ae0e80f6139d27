import assert from "node:assert/strict";
import { join } from "node:path";
import { moduleDiagram, moduleEdges } from "../../actors/agents/kit/import_graph.ts";
import { checkDiagrams } from "../../actors/orchestrator/diagram_check.ts";
import { taskGraph } from "../../actors/orchestrator/run_diagram.ts";
import { cli, writeFiles } from "../cli_helpers.ts";

const block = (diagram: string) => "```mermaid\n" + diagram + "\n```\n";

Deno.test("module links are read from the code's own imports: JavaScript and TypeScript, Python packages, Go packages", () => {
  const files = [
    "src/api/routes.ts",
    "src/api/index.ts",
    "src/db/pool.ts",
    "src/util.js",
    "main.ts",
    "app/models/user.py",
    "app/models/__init__.py",
    "app/views.py",
    "app/__init__.py",
    "cmd/server/main.go",
    "internal/store/store.go",
  ];
  const sources = [
    {
      path: "src/api/routes.ts",
      text: 'import { pool } from "../db/pool.ts";\nimport x from "lodash";',
    },
    {
      path: "src/api/index.ts",
      text: 'export * from "./routes.ts";\nconst u = require("../util.js");',
    },
    {
      path: "main.ts",
      text: 'import { start } from "./src/api/index.ts";\nawait import("./src/db/pool.ts");',
    },
    {
      path: "app/views.py",
      text: "from .models import user\nimport os\nfrom app.models.user import User",
    },
    {
      path: "cmd/server/main.go",
      text: 'import (\n  "fmt"\n  "example.com/shop/internal/store"\n)',
    },
  ];
  assert.deepEqual(moduleEdges(sources, files, "example.com/shop"), [
    ["app", "app/models", 2],
    [".", "src/api", 1],
    [".", "src/db", 1],
    ["cmd/server", "internal/store", 1],
    ["src/api", "src", 1],
    ["src/api", "src/db", 1],
  ]);
});

Deno.test("diagrams troupe draws parse with Mermaid's own parser, whatever the folder and task names; a broken one is caught", async () => {
  const odd = ['src/we"ird', "lib/[brackets]", "docs/a b", "ünï/cödé", "x/--> y", "end", "graph"];
  const edges = odd.map((m, i) =>
    [m, odd[(i + 1) % odd.length], i + 1] as [string, string, number]
  );
  const tasks = [
    { id: "scan", kind: "scan", dependsOn: [] },
    { id: "code.1", kind: "code", dependsOn: ["scan"] },
    { id: "review", kind: 'review "x" [y]', dependsOn: ["code.1", "missing"] },
  ];
  const outcome = {
    outputs: new Map([["scan", {}]]),
    dead: [{ taskId: "code.1", attempts: 3, cause: "boom" }],
    skipped: [{ taskId: "review", reason: "its dependency died" }],
  };
  const result = await checkDiagrams([
    { path: "architecture.md", text: block(moduleDiagram(edges)) },
    { path: "report.md", text: `# report\n\n${block(taskGraph(tasks, outcome))}` },
    { path: "broken.md", text: block("flowchart TD\n  a[unclosed --> b\n") },
  ]);
  assert.equal(result.checked, 3);
  assert.equal(result.problems.length, 1, JSON.stringify(result.problems));
  assert.equal(result.problems[0].path, "broken.md");
  assert.match(result.problems[0].error, /Parse error/);
  assert.deepEqual(await checkDiagrams([{ path: "none.md", text: "no diagram here" }]), {
    checked: 0,
    problems: [],
  });
});

Deno.test("a run proposes docs/architecture.md drawn from the repository's imports and reports its task graph, both parsed by Mermaid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-diagrams-" });
  try {
    const repo = join(dir, "shop");
    await writeFiles(repo, {
      "package.json": JSON.stringify({ name: "shop", scripts: { test: "node --test" } }),
      "src/server.js": 'const routes = require("./api/routes.js");\n',
      "src/api/routes.js": 'const db = require("../db/pool.js");\nmodule.exports = {};\n',
      "src/db/pool.js": "module.exports = {};\n",
      "test/routes.test.js": 'const r = require("../src/api/routes.js");\n',
    });
    const out = join(dir, "out");
    const r = await cli(["run", "--repo", repo, "--out", out, "--ledger", join(dir, "l.duckdb")]);
    assert.equal(r.code, 0, r.stderr);
    const architecture = await Deno.readTextFile(join(out, "files/docs/architecture.md"));
    assert.match(architecture, /```mermaid\nflowchart LR/);
    assert.match(architecture, /"src"/);
    assert.match(architecture, /"src\/api"/);
    assert.doesNotMatch(architecture, /"test"/, "tests are left out of the picture");
    const report = await Deno.readTextFile(join(out, "report.md"));
    assert.match(report, /## Task graph\n\n```mermaid\nflowchart TD/);
    assert.match(report, /\["write_docs"\]:::succeeded/);
    assert.match(report, /Diagrams: 2 parsed by Mermaid's own parser\./);
    const json = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
    assert.deepEqual(json.diagrams, { checked: 2, problems: [] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
