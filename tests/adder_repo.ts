import { join } from "node:path";

/**
 * A small Node project in `root/repo` whose one test fails (`add` subtracts), with a file under
 * `config/` that policies in the tests keep from tools; the tool-calling tests fix it.
 */
export async function brokenAdder(root: string): Promise<string> {
  const repo = join(root, "repo");
  for (const dir of ["src", "test", "config"]) {
    await Deno.mkdir(join(repo, dir), { recursive: true });
  }
  await Deno.writeTextFile(
    join(repo, "package.json"),
    JSON.stringify({ name: "adder", type: "module", scripts: { test: "node --test" } }),
  );
  await Deno.writeTextFile(join(repo, "src", "add.js"), "export const add = (a, b) => a - b;\n");
  await Deno.writeTextFile(join(repo, "config", "secret.txt"), "do not show\n");
  await Deno.writeTextFile(
    join(repo, "test", "add.test.js"),
    'import test from "node:test";\nimport assert from "node:assert";\n' +
      'import { add } from "../src/add.js";\n' +
      'test("adds", () => assert.equal(add(2, 3), 5));\n',
  );
  return repo;
}
