import assert from "node:assert/strict";
import { join } from "node:path";
import { runOn, runsHere, writeFiles } from "../cli_helpers.ts";
import { TYPEDOC_TOOLS } from "../launch.ts";

Deno.test("--api-docs runs each project's own documentation tool in the sandbox, proposes its pages and links them from the README; a tool that is missing is named, not guessed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-apidocs-" });
  try {
    const repo = join(dir, "shop");
    const out = join(dir, "out");
    await writeFiles(repo, {
      "README.md": "# shop\n\nA shop.\n",
      "deno.json": JSON.stringify({ exports: "./mod.ts" }),
      "mod.ts":
        "/** Adds two prices, in cents. */\nexport function addPrices(a: number, b: number)" +
        ": number {\n  return a + b;\n}\n",
      "py/pyproject.toml": '[project]\nname = "basket"\nversion = "0.1.0"\n',
      "py/basket/__init__.py": '"""Baskets of goods."""\n\n\ndef total(items):\n' +
        '    """The sum of the items\' prices."""\n    return sum(items)\n',
      "gosvc/go.mod": "module example.com/gosvc\n\ngo 1.19\n",
      "gosvc/stock.go": "// Package stock counts what is on the shelves.\npackage stock\n\n" +
        "// Count says how many of an item are left.\nfunc Count(item string) int {\n" +
        "\treturn len(item)\n}\n",
      "web/package.json": JSON.stringify({ name: "web", scripts: { test: "node --test" } }),
      "web/index.js": "exports.hello = () => 'hi';\n",
      "crate/Cargo.toml": '[package]\nname = "tiny-lib"\nversion = "0.1.0"\nedition = "2021"\n',
      "crate/src/lib.rs": "/// Doubles a number.\npub fn double(x: i32) -> i32 {\n    x * 2\n}\n",
    });
    const r = await runOn(repo, out, join(dir, "l.duckdb"), "--api-docs", "--home-toolchains");
    assert.equal(r.code, 0, r.stderr);

    const deno = await Deno.readTextFile(join(out, "files/docs/api/deno.md"));
    assert.match(deno, /Made by deno doc/);
    assert.match(deno, /addPrices\(a: number, b: number\): number/);
    assert.match(deno, /Adds two prices, in cents\./);
    const python = await Deno.readTextFile(join(out, "files/docs/api/python-py.md"));
    assert.match(python, /python3 -m pydoc basket/);
    assert.match(python, /total\(items\)/);
    assert.match(python, /The sum of the items' prices\./);

    const readme = await Deno.readTextFile(join(out, "files/README.md"));
    assert.match(readme, /^## API documentation$/m);
    assert.match(readme, /\[deno \.\]\(docs\/api\/deno\.md\), made by deno doc/);
    assert.match(readme, /\[python py\]\(docs\/api\/python-py\.md\), made by pydoc/);

    const report = await Deno.readTextFile(join(out, "report.md"));
    assert.match(report, /^## API documentation$/m);
    assert.match(
      report,
      /- node web: not run `npx typedoc[^`]*` \(TypeDoc is not installed in the project/,
    );
    if (await runsHere("cargo", "--version")) {
      // A website: checked that it builds, and the README says how to make it.
      assert.match(
        report,
        /- rust crate: made by cargo doc .*builds into `crate\/target\/doc\/tiny_lib\/index\.html`/,
      );
      assert.match(readme, /- rust crate: `cargo doc --no-deps --offline` \(cargo doc\) writes/);
    } else {
      console.log("could not check cargo doc: cargo is not installed");
    }
    if (await runsHere("go", "version")) {
      const go = await Deno.readTextFile(join(out, "files/docs/api/go-gosvc.md"));
      assert.match(go, /Package stock counts what is on the shelves\./);
      assert.match(go, /func Count\(item string\) int/);
      assert.match(readme, /\[go gosvc\]\(docs\/api\/go-gosvc\.md\)/);
    } else {
      assert.match(report, /- go gosvc: not run .*\(go is not installed here\)/);
      console.log("could not check go doc: Go is not installed (apt-get install golang-go)");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--api-docs: TypeDoc, as the project installed it, builds its website in the sandbox, and the README names the command", async () => {
  const tools = new URL(`../../${TYPEDOC_TOOLS}/node_modules`, import.meta.url).pathname;
  const installed = await Deno.stat(`${tools}/typedoc/bin/typedoc`).then(() => true, () => false);
  if (!installed) {
    console.log("could not check TypeDoc: the set-up could not install it (npm install typedoc)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "troupe-typedoc-" });
  try {
    const repo = join(dir, "prices");
    const out = join(dir, "out");
    await writeFiles(repo, {
      "package.json": JSON.stringify({ name: "prices", version: "1.0.0", main: "src/index.ts" }),
      "tsconfig.json": JSON.stringify({
        compilerOptions: { strict: true, target: "ES2022", module: "NodeNext" },
        include: ["src"],
      }),
      "typedoc.json": JSON.stringify({ entryPoints: ["src/index.ts"] }),
      "src/index.ts": "/** Adds two prices. */\nexport function addPrices(a: number, b: number)" +
        ": number {\n  return a + b;\n}\n",
    });
    const cp = await new Deno.Command("cp", { args: ["-r", tools, join(repo, "node_modules")] })
      .output();
    assert.ok(cp.success, "TypeDoc copied into the project");
    const r = await runOn(repo, out, join(dir, "l.duckdb"), "--api-docs");
    assert.equal(r.code, 0, r.stderr);
    const report = await Deno.readTextFile(join(out, "report.md"));
    assert.match(
      report,
      /- (node|typescript) \.: made by TypeDoc \(`npx typedoc --out docs\/api\/site`\): builds into `docs\/api\/site\/index\.html`/,
    );
    const readme = await Deno.readTextFile(join(out, "files/README.md"));
    assert.match(
      readme,
      /`npx typedoc --out docs\/api\/site` \(TypeDoc\) writes `docs\/api\/site\/index\.html`/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--api-docs: a Deno workspace's packages each get a page from their own exports, imports between them resolved offline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-denows-" });
  try {
    const repo = join(dir, "shop");
    const out = join(dir, "out");
    await writeFiles(repo, {
      "deno.json": JSON.stringify({
        workspace: ["./money", "./tax/"],
        tasks: { test: "deno test" },
      }),
      "money/deno.json": JSON.stringify({
        name: "@shop/money",
        version: "1.0.0",
        exports: "./mod.ts",
      }),
      "money/mod.ts": "/** An amount in cents. */\nexport type Cents = number;\n",
      "tax/deno.json": JSON.stringify({
        name: "@shop/tax",
        version: "1.0.0",
        exports: { ".": "./mod.ts", "./rates": "./rates.ts" },
      }),
      "tax/mod.ts": 'import type { Cents } from "@shop/money";\n' +
        "/** The tax on an amount. */\nexport function taxOf(amount: Cents): Cents {\n" +
        "  return Math.round(amount / 5);\n}\n",
      "tax/rates.ts": "/** The standard rate. */\nexport const STANDARD = 0.2;\n",
    });
    const r = await runOn(repo, out, join(dir, "l.duckdb"), "--api-docs");
    assert.equal(r.code, 0, r.stderr);
    const money = await Deno.readTextFile(join(out, "files/docs/api/deno-money.md"));
    assert.match(money, /An amount in cents\./);
    const tax = await Deno.readTextFile(join(out, "files/docs/api/deno-tax.md"));
    assert.match(tax, /taxOf\(amount: Cents\): Cents/);
    assert.match(tax, /The standard rate\./);
    assert.match(tax, /deno doc \.\/mod\.ts \.\/rates\.ts/);
    const pages = [...Deno.readDirSync(join(out, "files/docs/api"))].map((e) => e.name).sort();
    assert.deepEqual(pages, ["deno-money.md", "deno-tax.md"], "the workspace root exports nothing");
    const readme = await Deno.readTextFile(join(out, "files/README.md"));
    assert.match(readme, /\[deno money\]\(docs\/api\/deno-money\.md\)/);
    assert.match(readme, /\[deno tax\]\(docs\/api\/deno-tax\.md\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
