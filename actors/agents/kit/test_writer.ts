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

/** Test files by their usual names: the project's own, which the new tests are judged without. */
const TEST_FILE = /[._-](test|spec)\.[a-z]+$|_test\.(go|py)$|(^|\/)test_[^/]+\.py$/;

/**
 * The code the tests are for, in `dir`: the repository with the coder's patch when there is one
 * (the tests are written for the code the coder produced), without the project's own test files,
 * so that only the new tests are judged.
 */
async function codeWithoutTests(
  repo: string,
  dir: string,
  scan: ScanResult,
  codePatch: string | undefined,
): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await copyTree(repo, dir);
  if (codePatch) await applyUnifiedDiff(dir, codePatch);
  for (const f of scan.files) {
    if (TEST_FILE.test(f.path)) await Deno.remove(join(dir, f.path)).catch(() => {});
  }
}

/**
 * The test writer: asks the model for new tests (a unified diff adding test files) and judges
 * them alone, on the code the coder produced (or the code as it is) with the project's own tests
 * removed: they are kept only if they run, pass, and fail against at least one deliberately
 * broken copy of the code they test (a mutant). A test that asserts nothing catches no mutant on
 * its own, whatever the project's tests catch; a failing test of the project's is not the new
 * tests' failure. What is wrong goes back to the model, within `maxAttempts`.
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
  const scan = deps.scan as ScanResult;
  // The coder's change, when the plan has one and it succeeded (an optional dependency).
  const codePatch = (deps.code as { patch?: string } | undefined)?.patch;
  const mode = { unsandboxed: inputs.unsandboxed, homeToolchains: inputs.homeToolchains };
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: [
        "You write tests for troupe, a team of software-development agents.",
        "Add tests for the goal. Answer with one unified diff in a ```diff block that only adds",
        "test files (--- /dev/null, +++ b/PATH), in the project's test framework and folder.",
        "Your tests are run on their own: they must pass on the code and must fail if the code",
        "they test is broken.",
      ].join("\n"),
    },
    {
      role: "user",
      content: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, scan)}` +
        (codePatch
          ? "\n\nThe coder changed the code with this patch; test the code as it is after it " +
            `(the project's own tests are set aside):\n\n\`\`\`diff\n${codePatch}\`\`\``
          : ""),
    },
  ];
  let last = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await ask(messages);
    if (!reply.ok) throw new Error(`the model could not be asked: ${reply.error}`);
    const patch = extractPatch(reply.text);
    let feedback: string;
    try {
      await codeWithoutTests(repo, scratch, scan, codePatch);
      const files = await applyUnifiedDiff(
        scratch,
        patch,
        "tests a model wrote, kept for the broken code they catch on their own",
      );
      const changed = files.filter((f) => f.mode !== "create");
      if (changed.length > 0) {
        throw new Error(
          `it changes ${changed.map((f) => f.path).join(", ")}; only add new test files`,
        );
      }
      const alone = await runTests(scratch, detection, timeoutMs, mode);
      const code = codePatch ? "the code with the coder's change" : "the current code";
      if (alone.some((t) => t.verdict === "failed")) {
        feedback = `Your tests fail against ${code}:\n` +
          alone.filter((t) => t.verdict === "failed").map((t) => `$ ${t.command}\n${t.tail}`)
            .join("\n");
      } else if (!alone.some((t) => t.verdict === "passed")) {
        feedback = "The project's test command ran none of your tests (" +
          alone.map((t) => `\`${t.command}\`: ${t.verdict}`).join("; ") +
          "); put them where it finds tests.";
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
