import {
  type ActorSystem,
  AgentFactory,
  type AgentTemplateInput,
  type FactoryOptions,
} from "../../runtime/mod.ts";

import apiDocumenter from "../agents/api_documenter.ts";
import assessor from "../agents/assessor.ts";
import coder from "../agents/coder.ts";
import delivery from "../agents/delivery.ts";
import detector from "../agents/detector.ts";
import docs from "../agents/docs.ts";
import repairPlanner from "../agents/repair_planner.ts";
import reviewer from "../agents/reviewer.ts";
import scanner from "../agents/scanner.ts";
import tester from "../agents/tester.ts";
import { NETWORK_SETTINGS } from "../agents/kit/repo_sandbox.ts";
import type { Agent } from "../tasks/define_agent.ts";

/**
 * The repo-ops team as agent templates, each with only the permissions it needs: the scanner,
 * assessor and tester read the repository; the tester may start `sh` and reads the proxy and
 * registry settings it passes to installs that may use the network; the reviewer reads two
 * environment variables; the others get nothing. One agent of each is kept running; a pool
 * grows to three when tasks of its capability wait, within the factory's total. With a
 * `scratch` folder the team has a coder, started when a model-planned run needs one: it reads
 * the repository, writes only below `scratch`, and may start `sh` for the tests. The API
 * documenter has the tester's permissions and starts only when a run asks for API docs.
 */
export function teamTemplates(
  repo: string,
  scratch?: string,
  options: TeamOptions = {},
): AgentTemplateInput[] {
  const reads = { read: [repo] };
  // Repository code runs in copies below `scratch`, inside bubblewrap (or `sh` if unsandboxed).
  // Code runners may also find the Deno binary troupe runs on, to lend it to Deno projects.
  const deno = Deno.execPath();
  // A replay starts no process: an agent that tries outside its effect log is refused, and the
  // replay diverges there.
  const run = options.replaying ? {} : { run: ["bwrap", "sh"], env: NETWORK_SETTINGS };
  const runsCode = scratch
    ? { read: [repo, scratch, deno], write: [scratch], ...run }
    : { read: [repo, deno], ...run };
  const template = (name: string, agent: Agent, permissions = {}): AgentTemplateInput => ({
    name,
    behaviour: options.modules?.[name] ?? agent.module,
    capabilities: agent.capabilities,
    permissions,
    // Every agent reads what the repository holds (files, or facts drawn from them): a hostile
    // input that sends one into a loop must not keep a core after it is stopped.
    isolation: "process",
    pool: { min: 1, max: 3 },
  });
  return [
    template("scanner", scanner, reads),
    template("detector", detector),
    template("assessor", assessor, reads),
    template("planner", repairPlanner),
    template("delivery", delivery),
    template("docs", docs),
    // The YAML parser probes two debug variables when it loads.
    template("reviewer", reviewer, { env: ["LOG_TOKENS", "LOG_STREAM"] }),
    template("tester", tester, runsCode),
    // Started only for a run that asks for API documentation (`--api-docs`).
    { ...template("api-docs", apiDocumenter, runsCode), pool: { min: 0, max: 1 } },
    ...(scratch && options.coder
      ? [{ ...template("coder", coder, runsCode), pool: { min: 0, max: 1 } }]
      : []),
  ];
}

/** How a run's team is made. */
export interface TeamOptions {
  /** With a coder (a model-planned run). */
  coder?: boolean;
  /** Agents by template name run from these modules instead (a user's own, a test's). */
  modules?: Record<string, string>;
  /** A replay: agents may start no process. */
  replaying?: boolean;
}

/** Starts the repo-ops team's pools under the supervisor "team". */
export function startTeam(
  system: ActorSystem,
  templates: AgentTemplateInput[],
  options: FactoryOptions = {},
): Promise<AgentFactory> {
  return AgentFactory.start(system, templates, { supervisor: "team", ...options });
}
