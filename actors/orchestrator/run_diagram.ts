import type { RunOutcome } from "./orchestrator.ts";

/** A planned task as the run's `run_planned` event lists it. */
export interface PlannedTask {
  id: string;
  kind: string;
  dependsOn: string[];
}

/**
 * The run's task graph as a Mermaid flowchart: each task with its kind and how it ended
 * (succeeded, dead, skipped), an arrow from each dependency. Ids are made safe for Mermaid;
 * labels are quoted.
 */
export function taskGraph(tasks: PlannedTask[], outcome: RunOutcome): string {
  const node = new Map(tasks.map((t, i) => [t.id, `t${i}`]));
  const dead = new Set(outcome.dead.map((d) => d.taskId));
  const skipped = new Set(outcome.skipped.map((s) => s.taskId));
  const state = (id: string) =>
    outcome.outputs.has(id)
      ? "succeeded"
      : dead.has(id)
      ? "dead"
      : skipped.has(id)
      ? "skipped"
      : "notrun";
  const label = (t: PlannedTask) =>
    `${t.id}${t.kind === t.id ? "" : ` (${t.kind})`}`.replaceAll('"', "'");
  return [
    "flowchart TD",
    ...tasks.map((t) => `  ${node.get(t.id)}["${label(t)}"]:::${state(t.id)}`),
    ...tasks.flatMap((t) =>
      t.dependsOn.filter((d) => node.has(d)).map((d) => `  ${node.get(d)} --> ${node.get(t.id)}`)
    ),
    "  classDef succeeded fill:#d4edda,stroke:#28a745",
    "  classDef dead fill:#f8d7da,stroke:#dc3545",
    "  classDef skipped fill:#eeeeee,stroke:#999999,stroke-dasharray: 4",
    "  classDef notrun fill:#ffffff,stroke:#999999",
  ].join("\n");
}
