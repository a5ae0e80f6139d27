import { applyPatch, parsePatch } from "diff";
import { readFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import { defineAgent } from "../orchestrator/define_agent.ts";
import type { ChatMessage, ChatRequestInput } from "../llm/model_call.ts";
import type { GatewayReply } from "../llm/llm_gateway.ts";
import type { Detection, GeneratedFile, ScanResult } from "./repo_facts.ts";
import { runTests } from "./tester.ts";
import { writeTests } from "./test_writer.ts";
import type { ActorContext } from "../../runtime/mod.ts";

/** What the coder hands on: the files its patch changes, the patch, and how the tests went. */
export interface CodeChange {
  files: GeneratedFile[];
  patch: string;
  attempts: number;
  tests: Awaited<ReturnType<typeof runTests>>;
  model: string;
}

/**
 * Copies a tree without `.git`. Written here because node's `cp` looks at the destination's
 * parent folders, which a coder may not read: it may touch only the repository and its scratch.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name === ".git" || e.isSymlink) continue;
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** How much of the repository the model is shown. */
const CONTEXT_BYTES = 60_000;
const FILE_BYTES = 12_000;

/** The repository as the model sees it: every path, and the text of the smaller source files. */
export async function repositoryContext(root: string, scan: ScanResult): Promise<string> {
  const parts = [`Files:\n${scan.files.map((f) => f.path).join("\n")}`];
  let budget = CONTEXT_BYTES;
  const texts = scan.files
    .filter((f) =>
      !f.binary && f.size <= FILE_BYTES && (f.language || /\.(json|md|toml|ya?ml)$/.test(f.path))
    )
    .sort((a, b) => a.size - b.size);
  for (const f of texts) {
    if (f.size > budget) continue;
    const text = await readFile(join(root, f.path), "utf8").catch(() => null);
    if (text === null) continue;
    budget -= f.size;
    parts.push(`--- ${f.path}\n${text}`);
  }
  return parts.join("\n\n");
}

/** The unified diff in a model's answer: a ```diff block, or the answer itself. */
export function extractPatch(text: string): string {
  const fenced = text.match(/```(?:diff|patch)?\s*\n([\s\S]*?)```/);
  return (fenced ? fenced[1] : text).trim() + "\n";
}

const stripPrefix = (name: string | undefined) =>
  !name || name === "/dev/null" ? null : name.replace(/^[ab]\//, "").replace(/\t.*$/, "");

/**
 * Applies a unified diff to the tree at `root` and returns the files it changed. Refuses paths
 * outside the tree and hunks that do not fit, naming the file.
 */
export async function applyUnifiedDiff(root: string, patch: string): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  const parsed = parsePatch(patch);
  if (parsed.length === 0 || parsed.every((p) => p.hunks.length === 0)) {
    throw new Error("the answer holds no unified diff (--- a/FILE, +++ b/FILE, @@ hunks)");
  }
  for (const p of parsed) {
    if (p.hunks.length === 0) continue;
    const target = stripPrefix(p.newFileName) ?? stripPrefix(p.oldFileName);
    if (!target) throw new Error("a file in the diff has no name");
    const rel = normalize(target);
    if (rel.startsWith("..") || rel.startsWith("/") || rel.split("/").includes(".git")) {
      throw new Error(`the diff writes outside the repository: ${target}`);
    }
    if (stripPrefix(p.newFileName) === null) {
      throw new Error(`${target}: deleting files is not supported; change it instead`);
    }
    const path = join(root, rel);
    const existed = stripPrefix(p.oldFileName) !== null;
    const before = existed ? await readFile(path, "utf8").catch(() => null) : "";
    if (before === null) throw new Error(`${rel}: the diff changes a file that does not exist`);
    const after = applyPatch(before, p);
    if (after === false) {
      throw new Error(`${rel}: a hunk of the diff does not match the file's current text`);
    }
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, after);
    files.push({
      path: rel,
      content: after,
      mode: existed ? "replace" : "create",
      reason: "the coder's change, tested on a scratch copy",
    });
  }
  return files;
}

/**
 * The coder: asks the model (through the gateway actor) for a patch that reaches the goal,
 * applies it to a scratch copy of the repository (never the repository itself), runs the
 * project's tests there with the tester's restrictions (`sh` only, PATH and HOME only), and sends
 * failures back, within `maxAttempts`. What it returns goes through the reviewer and, with
 * `--apply`, through policy and approvals like any generated file.
 */
export async function writeCode(
  inputs: Record<string, unknown>,
  deps: Record<string, unknown>,
  ask: (messages: ChatMessage[]) => Promise<GatewayReply>,
): Promise<CodeChange> {
  const repo = String(inputs.repo);
  const scratch = join(String(inputs.scratch), "repo");
  const maxAttempts = Number(inputs.maxAttempts ?? 3);
  const scan = deps.scan as ScanResult;
  const detection = deps.detect as Detection;
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: [
        "You are the coder of troupe, a team of software-development agents.",
        "Change the repository to reach the goal. Answer with one unified diff in a ```diff block,",
        "paths as a/FILE and b/FILE (--- /dev/null for a new file), hunks with 3 lines of context.",
        "Keep the project's tests passing; add tests for what you add.",
      ].join("\n"),
    },
    {
      role: "user",
      content: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, scan)}`,
    },
  ];
  let last = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await ask(messages);
    if (!reply.ok) throw new Error(`the model could not be asked: ${reply.error}`);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await copyTree(repo, scratch);
    const patch = extractPatch(reply.text);
    let feedback: string;
    try {
      const files = await applyUnifiedDiff(scratch, patch);
      const tests = await runTests(scratch, detection, Number(inputs.testTimeoutMs ?? 300_000), {
        unsandboxed: inputs.unsandboxed === true,
      });
      const failed = tests.filter((t) => !t.passed);
      if (failed.length === 0) {
        return { files, patch, attempts: attempt, tests, model: reply.model };
      }
      feedback = "With your patch the tests fail:\n" +
        failed.map((t) => `$ ${t.command} (exit ${t.code})\n${t.tail}`).join("\n\n");
    } catch (err) {
      feedback = `Your patch cannot be applied: ${(err as Error).message}`;
    }
    last = feedback.split("\n")[0];
    messages.push(
      { role: "assistant", content: reply.text },
      { role: "user", content: `${feedback}\n\nAnswer again with one corrected unified diff.` },
    );
  }
  throw new Error(`no patch passed the project's tests after ${maxAttempts} attempts: ${last}`);
}

/** How an agent asks the gateway, for one task of a run. */
function asker(
  inputs: Record<string, unknown>,
  ctx: ActorContext<unknown>,
  role: string,
  taskId: string,
) {
  return (messages: ChatMessage[]) =>
    ctx.ask<GatewayReply>(String(inputs.gateway), {
      type: "chat",
      role,
      messages,
      localOnly: inputs.localOnly === true,
      prefer: Array.isArray(inputs.prefer) ? inputs.prefer : [],
      ...(typeof inputs.complexity === "string"
        ? { complexity: inputs.complexity as ChatRequestInput["complexity"] }
        : {}),
      runId: inputs.runId ?? null,
      taskId,
    }, { timeoutMs: 600_000 });
}

export default defineAgent({
  code: (inputs, deps, ctx) => writeCode(inputs, deps, asker(inputs, ctx, "coder", "code")),
  write_tests: (inputs, deps, ctx) =>
    writeTests(inputs, deps, asker(inputs, ctx, "tester", "write_tests")),
});
