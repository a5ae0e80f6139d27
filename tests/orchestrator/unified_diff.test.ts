import assert from "node:assert/strict";
import { join } from "node:path";
import { applyUnifiedDiff, extractPatch } from "../../actors/agents/kit/unified_diff.ts";

Deno.test("a diff whose last context line is a single space (an empty line) is applied as written, fenced or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-diff-" });
  try {
    const original = "function add(a, b) {\n  return a - b;\n}\n\nexport { add };\n\n";
    const diff = [
      "--- a/add.js",
      "+++ b/add.js",
      "@@ -1,6 +1,6 @@",
      " function add(a, b) {",
      "-  return a - b;",
      "+  return a + b;",
      " }",
      " ",
      " export { add };",
      " ",
    ].join("\n");
    for (const answer of [`Here is the fix:\n\n\`\`\`diff\n${diff}\n\`\`\`\n`, `${diff}\n`]) {
      await Deno.writeTextFile(join(dir, "add.js"), original);
      const patch = extractPatch(answer);
      assert.ok(patch.endsWith("\n \n"), JSON.stringify(patch.slice(-12)));
      await applyUnifiedDiff(dir, patch);
      assert.equal(
        await Deno.readTextFile(join(dir, "add.js")),
        original.replace("a - b", "a + b"),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
