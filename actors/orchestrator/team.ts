import {
  type ActorSystem,
  AgentFactory,
  type AgentTemplateInput,
  type FactoryOptions,
} from "../../runtime/mod.ts";

const agent = (name: string) => new URL(`../agents/${name}.ts`, import.meta.url).href;

/**
 * The repo-ops team as agent templates, each with only the permissions it needs: the scanner,
 * assessor and tester read the repository; the tester may start `sh`; the reviewer reads two
 * environment variables; the others get nothing. One agent of each is kept running; a pool
 * grows to three when tasks of its capability wait, within the factory's total. With a
 * `scratch` folder the team has a coder, started when a model-planned run needs one: it reads
 * the repository, writes only below `scratch`, and may start `sh` for the tests.
 */
export function teamTemplates(
  repo: string,
  scratch?: string,
  options: { coder?: boolean } = {},
): AgentTemplateInput[] {
  const reads = { read: [repo] };
  // Repository code runs in copies below `scratch`, inside bubblewrap (or `sh` if unsandboxed).
  // Code runners may also find the Deno binary troupe runs on, to lend it to Deno projects.
  const deno = Deno.execPath();
  const runsCode = scratch
    ? { read: [repo, scratch, deno], write: [scratch], run: ["bwrap", "sh"] }
    : { read: [repo, deno], run: ["bwrap", "sh"] };
  const template = (
    name: string,
    capability: string,
    permissions = {},
  ): AgentTemplateInput => ({
    name,
    behaviour: agent(name),
    capabilities: [capability],
    permissions,
    // Every agent reads what the repository holds (files, or facts drawn from them): a hostile
    // input that sends one into a loop must not keep a core after it is stopped.
    isolation: "process",
    pool: { min: 1, max: 3 },
  });
  return [
    template("scanner", "repo.scan", reads),
    template("detector", "repo.detect"),
    template("assessor", "repo.assess", reads),
    template("planner", "plan.repairs"),
    template("delivery", "ci.generate"),
    template("docs", "docs.write"),
    // The YAML parser probes two debug variables when it loads.
    template("reviewer", "patch.review", { env: ["LOG_TOKENS", "LOG_STREAM"] }),
    template("tester", "repo.test", runsCode),
    ...(scratch && options.coder
      ? [{
        ...template("coder", "code.write", runsCode),
        capabilities: ["code.write", "tests.write"],
        pool: { min: 0, max: 1 },
      }]
      : []),
  ];
}

/** Starts the repo-ops team's pools under the supervisor "team". */
export function startTeam(
  system: ActorSystem,
  repo: string,
  options: FactoryOptions = {},
  scratch?: string,
  coder = false,
): Promise<AgentFactory> {
  return AgentFactory.start(system, teamTemplates(repo, scratch, { coder }), {
    supervisor: "team",
    ...options,
  });
}
