import type { ActorSystem, Supervisor } from "../../runtime/mod.ts";

const agent = (name: string) => new URL(`../agents/${name}.ts`, import.meta.url).href;

/**
 * Starts the repo-ops team under one supervisor, each agent a worker actor with only the
 * permissions it needs: the scanner, assessor and tester read the repository; the tester may
 * start `sh`; the reviewer reads two environment variables; the others get nothing.
 */
export function startTeam(system: ActorSystem, repo: string): Promise<Supervisor> {
  const reads = { read: [repo] };
  const member = (id: string, capability: string, permissions = {}) => ({
    actor: {
      id,
      behaviour: agent(id),
      capabilities: [capability],
      permissions,
      observeMessages: false,
    },
  });
  return system.supervise({
    id: "team",
    strategy: "one_for_one",
    intensity: 5,
    backoff: { minMs: 50, maxMs: 1000 },
    children: [
      member("scanner", "repo.scan", reads),
      member("detector", "repo.detect"),
      member("assessor", "repo.assess", reads),
      member("planner", "plan.repairs"),
      member("delivery", "ci.generate"),
      member("docs", "docs.write"),
      // The YAML parser probes two debug variables when it loads.
      member("reviewer", "patch.review", { env: ["LOG_TOKENS", "LOG_STREAM"] }),
      member("tester", "repo.test", { ...reads, run: ["sh"] }),
    ],
  });
}
