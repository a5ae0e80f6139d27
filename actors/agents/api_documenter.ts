import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import type { Detection } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";
import { makeApiDocs } from "./kit/api_docs.ts";
import { copyTree } from "./kit/copy_tree.ts";

export default defineAgent(import.meta.url, TASK_KINDS, {
  // The tools run in a scratch copy: the sandbox lets them write nowhere else.
  api_docs: async (inputs, deps) => {
    const copy = join(inputs.scratch, "api-docs");
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    await copyTree(inputs.repo, copy);
    return await makeApiDocs(copy, deps.detect as Detection, {
      unsandboxed: inputs.unsandboxed,
      homeToolchains: inputs.homeToolchains,
    }, inputs.timeoutMs);
  },
});
