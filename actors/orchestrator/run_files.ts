import { join } from "node:path";
import type { CodeChange } from "../agents/coder.ts";
import { proposedCiFiles, type VerifiedCi } from "../agents/kit/ci_verifier.ts";
import type { WrittenTests } from "../agents/kit/test_writer.ts";
import { alreadyAppended, type GeneratedFile } from "../tasks/repo_facts.ts";

/** The files a run's task outputs propose: CI (as verified), docs, the coder's, the tests. */
export function generatedFiles(out: ReadonlyMap<string, unknown>): GeneratedFile[] {
  return [
    ...proposedCiFiles(
      out.get("generate_ci") as GeneratedFile[] | undefined,
      out.get("verify_ci") as VerifiedCi | undefined,
    ),
    ...((out.get("write_docs") as GeneratedFile[] | undefined) ?? []),
    ...((out.get("code") as CodeChange | undefined)?.files ?? []),
    ...((out.get("write_tests") as WrittenTests | undefined)?.files ?? []),
  ];
}

/**
 * Each generated file as the repository has it now and as the run leaves it. A resumed run may
 * find its own append already applied: the file before it is what it was before that append.
 */
export async function proposedFiles(
  repo: string,
  files: GeneratedFile[],
): Promise<{ file: GeneratedFile; before: string; after: string }[]> {
  const proposed = [];
  for (const f of files) {
    const current = f.mode === "create"
      ? ""
      : await Deno.readTextFile(join(repo, f.path)).catch(() => "");
    const before = alreadyAppended(current, f)
      ? current.slice(0, current.length - f.content.length)
      : current;
    const after = f.mode === "append" ? before + f.content : f.mode === "delete" ? "" : f.content;
    proposed.push({ file: f, before, after });
  }
  return proposed;
}
