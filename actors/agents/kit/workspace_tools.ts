import { dirname, join, normalize } from "node:path";
import { z } from "zod";
import { compilePattern } from "../../../policies/mod.ts";
import type { ToolSpec } from "../../llm/model_call.ts";
import type { Detection, Project } from "../../tasks/repo_facts.ts";
import { runTests, type TestRun } from "./run_tests.ts";
import type { SandboxMode } from "./repo_sandbox.ts";

/** The most a tool's result gives back to the model (and the ledger keeps). */
export const RESULT_CHARS = 8_000;
const MAX_LINES = 400;
const MAX_MATCHES = 100;
const MAX_LIST = 1_000;
/** Folders no tool walks into: a copy has no `.git`; the rest is installed or built. */
const SKIP = new Set([".git", "node_modules", "target", "dist", "build", ".venv", "vendor"]);

const Path = z.string().min(1).describe("a path relative to the repository's root");
const Line = z.number().int().min(1);

/** The built-in tools: each one's arguments, as the one definition the model is shown. */
export const WORKSPACE_TOOLS = {
  list_files: {
    description: "List the repository's files (under a folder, when given).",
    args: z.strictObject({ path: Path.optional() }),
  },
  read_file: {
    description: `Read a file's lines, numbered (at most ${MAX_LINES} at a time).`,
    args: z.strictObject({ path: Path, start_line: Line.optional(), end_line: Line.optional() }),
  },
  search: {
    description: "Search the files for a regular expression (RE2 syntax); gives file:line: text.",
    args: z.strictObject({ pattern: z.string().min(1), path: Path.optional() }),
  },
  replace: {
    description: "Replace a string that occurs exactly once in a file with another.",
    args: z.strictObject({ path: Path, old: z.string().min(1), new: z.string() }),
  },
  edit_lines: {
    description: "Replace lines start_line..end_line (inclusive) of a file with text.",
    args: z.strictObject({ path: Path, start_line: Line, end_line: Line, text: z.string() }),
  },
  create_file: {
    description: "Create a new file with the given content.",
    args: z.strictObject({ path: Path, content: z.string() }),
  },
  delete_file: {
    description: "Delete a file.",
    args: z.strictObject({ path: Path }),
  },
  run_tests: {
    description: "Run the project's tests, or only one test file, and say how they went.",
    args: z.strictObject({ file: Path.optional() }),
  },
  last_failure: {
    description: "The output of the last test run that failed.",
    args: z.strictObject({}),
  },
  done: {
    description: "Say the work is done, with a one-line summary; the tests are run once more.",
    args: z.strictObject({ summary: z.string() }),
  },
} as const;

/** A built-in tool's name. */
export type WorkspaceTool = keyof typeof WORKSPACE_TOOLS;

/** The tools that only read: they may run again on a replay instead of being answered. */
export const READING_TOOLS: WorkspaceTool[] = ["list_files", "read_file", "search", "last_failure"];

/** The built-in tools as a model is offered them. */
export function workspaceToolSpecs(): ToolSpec[] {
  return Object.entries(WORKSPACE_TOOLS).map(([name, t]) => {
    const { $schema: _, ...parameters } = z.toJSONSchema(t.args) as Record<string, unknown>;
    return { name, description: t.description, parameters };
  });
}

/** What one tool call came to: the text the model is given, and whether it did what was asked. */
export interface ToolResult {
  ok: boolean;
  text: string;
  /** For `run_tests`: the runs. */
  tests?: TestRun[];
}

/** A result cut to what the model and the ledger keep, saying how much was left out. */
export function bounded(text: string, limit = RESULT_CHARS): string {
  return text.length <= limit
    ? text
    : `${text.slice(0, limit)}\n… (${text.length - limit} more characters not shown)`;
}

/**
 * The scratch copy an agent works in, through its tools: every path stays inside it (the copy
 * holds no links), tests run in the repository sandbox like the tester's.
 */
export class Workspace {
  #lastFailure = "";
  /** The files the tools wrote or deleted: the session's change is made of these. */
  readonly touched = new Set<string>();

  constructor(
    readonly root: string,
    readonly detection: Detection,
    readonly testTimeoutMs: number,
    readonly mode: SandboxMode,
  ) {}

  /** Runs one built-in tool; a bad argument or path is a result the model reads, not a throw. */
  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    if (!(name in WORKSPACE_TOOLS)) return { ok: false, text: `there is no tool ${name}` };
    const parsed = WORKSPACE_TOOLS[name as WorkspaceTool].args.safeParse(args);
    if (!parsed.success) {
      return { ok: false, text: `bad arguments for ${name}: ${z.prettifyError(parsed.error)}` };
    }
    try {
      const r = await this.#run(name as WorkspaceTool, parsed.data as Record<string, never>);
      return { ...r, text: bounded(r.text) };
    } catch (err) {
      return { ok: false, text: `${name} failed: ${(err as Error).message}` };
    }
  }

  async #run(name: WorkspaceTool, a: Record<string, never>): Promise<ToolResult> {
    switch (name) {
      case "list_files": {
        const files = await this.files(a.path ?? ".");
        const shown = files.slice(0, MAX_LIST).join("\n");
        return { ok: true, text: files.length > MAX_LIST ? `${shown}\n… and more` : shown };
      }
      case "read_file": {
        const lines = (await Deno.readTextFile(await this.#path(a.path))).split("\n");
        const start = a.start_line ?? 1;
        const end = Math.min(a.end_line ?? start + MAX_LINES - 1, start + MAX_LINES - 1);
        const shown = lines.slice(start - 1, end).map((l, i) => `${start + i}: ${l}`);
        const rest = lines.length > end ? `\n… (${lines.length} lines in all)` : "";
        return { ok: true, text: shown.join("\n") + rest };
      }
      case "search": {
        const re = compilePattern(a.pattern);
        const hits: string[] = [];
        for (const f of await this.files(a.path ?? ".")) {
          const text = await Deno.readTextFile(join(this.root, f)).catch(() => "");
          if (text.includes("\0")) continue; // binary
          text.split("\n").forEach((l, i) => {
            if (hits.length < MAX_MATCHES && re.test(l)) hits.push(`${f}:${i + 1}: ${l}`);
          });
          if (hits.length >= MAX_MATCHES) break;
        }
        return { ok: true, text: hits.length ? hits.join("\n") : "no match" };
      }
      case "replace": {
        const path = await this.#path(a.path);
        const text = await Deno.readTextFile(path);
        const count = text.split(a.old).length - 1;
        if (count !== 1) {
          return {
            ok: false,
            text: `the string occurs ${count} times in ${a.path}; give one that occurs once`,
          };
        }
        await Deno.writeTextFile(path, text.replace(a.old, () => a.new));
        this.touched.add(normalize(a.path));
        return { ok: true, text: `replaced in ${a.path}` };
      }
      case "edit_lines": {
        const path = await this.#path(a.path);
        const lines = (await Deno.readTextFile(path)).split("\n");
        if (a.end_line < a.start_line || a.start_line > lines.length) {
          return { ok: false, text: `${a.path} has ${lines.length} lines; lines out of range` };
        }
        const text = a.text as string;
        lines.splice(a.start_line - 1, a.end_line - a.start_line + 1, ...text.split("\n"));
        await Deno.writeTextFile(path, lines.join("\n"));
        this.touched.add(normalize(a.path));
        return { ok: true, text: `edited ${a.path} lines ${a.start_line}-${a.end_line}` };
      }
      case "create_file": {
        const path = await this.#path(a.path);
        await Deno.mkdir(dirname(path), { recursive: true });
        await Deno.writeTextFile(path, a.content, { createNew: true });
        this.touched.add(normalize(a.path));
        return { ok: true, text: `created ${a.path}` };
      }
      case "delete_file":
        await Deno.remove(await this.#path(a.path));
        this.touched.add(normalize(a.path));
        return { ok: true, text: `deleted ${a.path}` };
      case "run_tests":
        return await this.runTests(a.file);
      case "last_failure":
        return { ok: true, text: this.#lastFailure || "no test run has failed" };
      case "done":
        return { ok: true, text: "done" };
    }
  }

  /** Runs the tests (or one file's); remembers the output of a failure for `last_failure`. */
  async runTests(file?: string): Promise<ToolResult> {
    let detection = this.detection;
    if (file) {
      await this.#path(file);
      const one = this.detection.projects.flatMap((p) => {
        const test = oneTestFile(p, file);
        return test ? [{ ...p, test }] : [];
      });
      if (one.length === 0) {
        return {
          ok: false,
          text: `no way to run only ${file} is known for this project; run_tests without a file`,
        };
      }
      detection = { ...this.detection, projects: one.slice(0, 1) };
    }
    const tests = await runTests(this.root, detection, this.testTimeoutMs, this.mode);
    if (tests.length === 0) return { ok: false, text: "the project has no test command", tests };
    const failed = tests.filter((t) => t.verdict !== "passed");
    const summary = tests.map((t) =>
      `$ ${t.command}: ${t.verdict}` +
      (t.tests ? ` (${t.tests.passed} passed, ${t.tests.failed} failed)` : "")
    ).join("\n");
    if (failed.length) {
      this.#lastFailure = failed.map((t) => `$ ${t.command} (exit ${t.code})\n${t.tail}`)
        .join("\n\n");
    }
    const tail = failed.length ? `\n\n${bounded(this.#lastFailure, 3_000)}` : "";
    return { ok: failed.length === 0, text: summary + tail, tests };
  }

  /** Each file's size and modification time, to see what a tool outside troupe changed. */
  async snapshot(): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    for (const f of await this.files(".")) {
      const s = await Deno.stat(join(this.root, f)).catch(() => null);
      if (s) seen.set(f, `${s.size}:${s.mtime?.getTime()}`);
    }
    return seen;
  }

  /** What changed since `before` (an MCP server's writes): each file's text, null if deleted. */
  async changedSince(before: Map<string, string>): Promise<Record<string, string | null>> {
    const after = await this.snapshot();
    const changed: Record<string, string | null> = {};
    for (const [f, v] of after) {
      if (before.get(f) !== v) {
        changed[f] = await Deno.readTextFile(join(this.root, f)).catch(() => null);
      }
    }
    for (const f of before.keys()) if (!after.has(f)) changed[f] = null;
    return changed;
  }

  /**
   * Takes changes into the copy and counts them as touched: what an MCP server wrote (already
   * there), or on a replay, where no server runs, what it wrote then.
   */
  async absorb(changes: Record<string, string | null>): Promise<void> {
    for (const [f, text] of Object.entries(changes)) {
      const path = await this.#path(f);
      if (text === null) await Deno.remove(path).catch(() => {});
      else if (await Deno.readTextFile(path).catch(() => null) !== text) {
        await Deno.mkdir(dirname(path), { recursive: true });
        await Deno.writeTextFile(path, text);
      }
      this.touched.add(f);
    }
  }

  /** The files under `dir` (relative to the root), sorted. */
  async files(dir: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      for await (const e of Deno.readDir(join(this.root, rel))) {
        if (out.length > MAX_LIST * 20 || SKIP.has(e.name)) continue;
        const path = rel === "." ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory) await walk(path);
        else if (e.isFile) out.push(path);
      }
    };
    await this.#path(dir);
    await walk(normalize(dir).replace(/\/$/, ""));
    return out.sort();
  }

  /** A path inside the copy, or an error naming the one that is not. */
  /**
   * A path inside the tree, or an error naming the one that is not; a link leading out of it (a
   * repository may hold one; a scratch copy holds none) is refused like `..`.
   */
  async #path(rel: string): Promise<string> {
    const n = normalize(rel);
    const outside = () =>
      new Error(`${rel} is outside the repository; give a path relative to its root`);
    if (n.startsWith("..") || n.startsWith("/") || n.split("/").includes(".git")) throw outside();
    const path = join(this.root, n);
    const root = await Deno.realPath(this.root);
    // The deepest part of the path that exists, with its links resolved, must be inside.
    for (let at = path; at.length >= this.root.length; at = dirname(at)) {
      const real = await Deno.realPath(at).catch(() => null);
      if (real === null) continue;
      if (real !== root && !real.startsWith(`${root}/`)) throw outside();
      break;
    }
    return path;
  }
}

/**
 * The command that runs only one test file of a project, where its runner takes one: null where
 * it is not known (the whole suite runs instead).
 */
export function oneTestFile(p: Project, file: string): string | null {
  if (!p.test || (p.dir !== "." && !file.startsWith(`${p.dir}/`))) return null;
  const rel = p.dir === "." ? file : file.slice(p.dir.length + 1);
  const q = `'${rel.replaceAll("'", "'\\''")}'`;
  if (/pytest/.test(p.test)) return `${p.test} ${q}`;
  if (/^(npm|pnpm|yarn) test$/.test(p.test)) return `${p.test} -- ${q}`;
  if (p.type === "deno") return `deno test -A ${q}`;
  if (p.type === "go") return `go test ./${dirname(rel)}`;
  if (p.type === "rust" && /^tests\/[^/]+\.rs$/.test(rel)) {
    return `cargo test --test ${rel.slice(6, -3)}`;
  }
  return null;
}
