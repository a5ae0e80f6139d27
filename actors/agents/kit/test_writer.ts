import { dirname, join, normalize } from "node:path";
import type { Detection, GeneratedFile, ScanResult } from "../../tasks/repo_facts.ts";
import { copyTree } from "./copy_tree.ts";
import { repositoryContext } from "./repository_context.ts";
import { runTests } from "./run_tests.ts";
import { applyUnifiedDiff } from "./unified_diff.ts";
import { changes, type LoopPorts, toolLoop, type Verdict } from "./tool_loop.ts";
import { Workspace } from "./workspace_tools.ts";
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
 * The test writer: a tool-calling session (see `tool_loop.ts`) on the code the coder produced (or
 * the code as it is) with the project's own tests removed, where the model reads the code and adds
 * test files; a model without tools may answer with a diff that adds them. The new tests are judged
 * alone: kept only if they run, pass, and fail against at least one deliberately broken copy of the
 * code they test (a mutant). A test that asserts nothing catches no mutant on its own, whatever
 * the project's tests catch; a failing test of the project's is not the new tests' failure. What
 * is wrong goes back to the model, within `maxAttempts`.
 */
export async function writeTests(
  inputs: ModelStepInputs,
  deps: Record<string, unknown>,
  ports: LoopPorts,
): Promise<WrittenTests> {
  const { repo, testTimeoutMs: timeoutMs } = inputs;
  const scratch = join(inputs.scratch, "tests");
  const detection = deps.detect as Detection;
  const scan = deps.scan as ScanResult;
  // The coder's change, when the plan has one and it succeeded (an optional dependency).
  const codePatch = (deps.code as { patch?: string } | undefined)?.patch;
  const mode = { unsandboxed: inputs.unsandboxed, homeToolchains: inputs.homeToolchains };
  const workspace = new Workspace(scratch, detection, timeoutMs, mode);
  const reason = "tests a model wrote, kept for the broken code they catch on their own";
  const reset = () => codeWithoutTests(repo, scratch, scan, codePatch);
  await reset();

  /** The new tests, judged alone on the code: pass, and catch a mutant. */
  const judge = async (): Promise<Verdict> => {
    const { files } = await changes(repo, scratch, workspace.touched, reason);
    const changed = files.filter((f) => f.mode !== "create");
    const fail = (feedback: string): Verdict => ({ ok: false, feedback, tests: [] });
    if (changed.length > 0) {
      return fail(
        `Your tests cannot be used: it changes ${changed.map((f) => f.path).join(", ")}; ` +
          "only add new test files",
      );
    }
    const alone = await runTests(scratch, detection, timeoutMs, mode);
    const code = codePatch ? "the code with the coder's change" : "the current code";
    if (alone.some((t) => t.verdict === "failed")) {
      return fail(
        `Your tests fail against ${code}:\n` +
          alone.filter((t) => t.verdict === "failed").map((t) => `$ ${t.command}\n${t.tail}`)
            .join("\n"),
      );
    }
    if (!alone.some((t) => t.verdict === "passed")) {
      return fail(
        "The project's test command ran none of your tests (" +
          alone.map((t) => `\`${t.command}\`: ${t.verdict}`).join("; ") +
          "); put them where it finds tests.",
      );
    }
    const sources = [...new Set(files.flatMap(importedSources))];
    const tried: WrittenTests["mutants"] = [];
    for (const m of await mutants(scratch, sources)) {
      const original = await Deno.readTextFile(join(scratch, m.file));
      await Deno.writeTextFile(join(scratch, m.file), m.text);
      try {
        const withNew = await runTests(scratch, detection, timeoutMs, mode);
        tried.push({
          file: m.file,
          change: m.change,
          caught: withNew.some((t) => t.verdict === "failed"),
        });
      } finally {
        await Deno.writeTextFile(join(scratch, m.file), original);
      }
    }
    if (tried.some((t) => t.caught)) return { ok: true, feedback: "", tests: alone, found: tried };
    return fail(
      tried.length === 0
        ? "Your tests import no source file of the project (by a relative path), so nothing " +
          "they test could be broken to check them."
        : "Your tests still pass when the code they test is broken (" +
          tried.map((t) => `${t.file}: ${t.change}`).join("; ") + "); they assert too little.",
    );
  };

  const r = await toolLoop({
    runId: inputs.runId,
    taskId: "write_tests",
    role: "tester",
    system: [
      "You write tests for troupe, a team of software-development agents.",
      "Add tests for the goal, working with the tools on a copy of the code with the project's own",
      "tests set aside: read the code, create test files in the project's test framework and",
      "folder, run them, and call done. Only add new test files. Your tests are run on their own:",
      "they must pass on the code and must fail if the code they test is broken. Without tools,",
      "answer with one unified diff in a ```diff block that only adds test files (--- /dev/null,",
      "+++ b/PATH).",
    ].join("\n"),
    user: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, scan)}` +
      (codePatch
        ? "\n\nThe coder changed the code with this patch; test the code as it is after it " +
          `(the project's own tests are set aside):\n\n\`\`\`diff\n${codePatch}\`\`\``
        : ""),
    original: repo,
    workspace,
    maxSteps: inputs.maxSteps,
    maxTokens: inputs.maxTokens,
    maxAttempts: inputs.maxAttempts,
    reason,
    reset,
    check: judge,
  }, ports);
  return {
    files: r.files,
    patch: r.patch,
    attempts: r.attempts,
    mutants: r.found as WrittenTests["mutants"],
    model: r.model,
  };
}
