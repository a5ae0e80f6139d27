import { dirname, join, normalize } from "node:path";
import type { ChatMessage } from "../../llm/model_call.ts";
import type { Detection, GeneratedFile, ScanResult } from "../../tasks/repo_facts.ts";
import { copyTree } from "./copy_tree.ts";
import { repositoryContext } from "./repository_context.ts";
import { runTests } from "./run_tests.ts";
import { applyUnifiedDiff, extractPatch } from "./unified_diff.ts";
import type { ModelStepInputs } from "../../tasks/task_kinds.ts";

/** What the test writer hands on: the tests it kept, and the mutants they caught. */
export interface WrittenTests {
  files: GeneratedFile[];
  patch: string;
  attempts: number;
  /** Each deliberate break of the code, and whether the new tests caught it. */
  mutants: { file: string; change: string; caught: boolean }[];
  model: string;
}

/** Small deliberate breaks: each turns one operator or value into another. */
const MUTATIONS: [RegExp, string, string][] = [
  [/ \+ /, " - ", "+ → -"],
  [/ - /, " + ", "- → +"],
  [/===/, "!==", "=== → !=="],
  [/!==/, "===", "!== → ==="],
  [/ > /, " <= ", "> → <="],
  [/ < /, " >= ", "< → >="],
  [/\btrue\b/, "false", "true → false"],
  [/\breturn ([^;\n]+);/, "return undefined;", "return value → undefined"],
];

/** The source files a test imports by a relative path (`../src/validate.js`), from the repo. */
function importedSources(test: GeneratedFile): string[] {
  const out: string[] = [];
  for (const m of test.content.matchAll(/(?:from\s+|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    out.push(normalize(join(dirname(test.path), m[1])));
  }
  return out;
}

/** Up to `max` mutants of `files`: one break each, as (file, new text, what changed). */
async function mutants(root: string, files: string[], max = 6) {
  const out: { file: string; text: string; change: string }[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(join(root, file)).catch(() => null);
    if (text === null) continue;
    for (const [pattern, replacement, change] of MUTATIONS) {
      if (out.length >= max) return out;
      if (pattern.test(text)) out.push({ file, text: text.replace(pattern, replacement), change });
    }
  }
  return out;
}

/**
 * The test writer: asks the model for new tests (a unified diff adding test files), applies them
 * to a scratch copy, and keeps them only if they pass against the code as it is and fail against
 * at least one deliberately broken copy of the code they test (a mutant), so a test that asserts
 * nothing is not kept. What is wrong goes back to the model, within `maxAttempts`.
 */
export async function writeTests(
  inputs: ModelStepInputs,
  deps: Record<string, unknown>,
  ask: (messages: ChatMessage[]) => Promise<
    { ok: true; text: string; model: string } | {
      ok: false;
      error: string;
    }
  >,
): Promise<WrittenTests> {
  const { repo, maxAttempts, testTimeoutMs: timeoutMs } = inputs;
  const scratch = join(inputs.scratch, "tests");
  const detection = deps.detect as Detection;
  const mode = { unsandboxed: inputs.unsandboxed, homeToolchains: inputs.homeToolchains };
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: [
        "You write tests for troupe, a team of software-development agents.",
        "Add tests for the goal. Answer with one unified diff in a ```diff block that only adds",
        "test files (--- /dev/null, +++ b/PATH), in the project's test framework and folder.",
        "Tests must pass on the current code and must fail if the code they test is broken.",
      ].join("\n"),
    },
    {
      role: "user",
      content: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, deps.scan as ScanResult)}`,
    },
  ];
  let last = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await ask(messages);
    if (!reply.ok) throw new Error(`the model could not be asked: ${reply.error}`);
    const patch = extractPatch(reply.text);
    let feedback: string;
    try {
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
      await copyTree(repo, scratch);
      const files = await applyUnifiedDiff(scratch, patch);
      const changed = files.filter((f) => f.mode !== "create");
      if (changed.length > 0) {
        throw new Error(
          `it changes ${changed.map((f) => f.path).join(", ")}; only add new test files`,
        );
      }
      const passing = await runTests(scratch, detection, timeoutMs, mode);
      if (passing.some((t) => !t.passed)) {
        feedback = "Your tests fail against the current code:\n" +
          passing.filter((t) => !t.passed).map((t) => `$ ${t.command}\n${t.tail}`).join("\n");
      } else {
        const sources = [...new Set(files.flatMap(importedSources))];
        const tried: WrittenTests["mutants"] = [];
        for (const m of await mutants(scratch, sources)) {
          const original = await Deno.readTextFile(join(scratch, m.file));
          await Deno.writeTextFile(join(scratch, m.file), m.text);
          try {
            const withNew = await runTests(scratch, detection, timeoutMs, mode);
            const caught = withNew.some((t) => t.verdict === "failed");
            tried.push({ file: m.file, change: m.change, caught });
          } finally {
            await Deno.writeTextFile(join(scratch, m.file), original);
          }
        }
        if (tried.some((t) => t.caught)) {
          return { files, patch, attempts: attempt, mutants: tried, model: reply.model };
        }
        feedback = tried.length === 0
          ? "Your tests import no source file of the project (by a relative path), so nothing " +
            "they test could be broken to check them."
          : "Your tests still pass when the code they test is broken (" +
            tried.map((t) => `${t.file}: ${t.change}`).join("; ") + "); they assert too little.";
      }
    } catch (err) {
      feedback = `Your tests cannot be used: ${(err as Error).message}`;
    }
    last = feedback.split("\n")[0];
    messages.push(
      { role: "assistant", content: reply.text },
      { role: "user", content: `${feedback}\n\nAnswer again with one corrected unified diff.` },
    );
  }
  throw new Error(`no tests were worth keeping after ${maxAttempts} attempts: ${last}`);
}
