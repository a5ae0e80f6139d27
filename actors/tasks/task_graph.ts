import { z } from "zod";
import { PlanError } from "./plan_error.ts";
import { TaskPacket, type TaskPacketInput } from "./task_packet.ts";

/**
 * Validates a plan before anything runs: packet shape, unique ids, known dependencies, known
 * capabilities, no cycles. Returns the packets in a dependency-respecting order.
 */
export function validatePlan(
  input: TaskPacketInput[],
  capabilities: ReadonlySet<string>,
): TaskPacket[] {
  const problems: string[] = [];
  const tasks: TaskPacket[] = [];
  input.forEach((raw, i) => {
    const parsed = TaskPacket.safeParse(raw);
    const name = (raw as { id?: unknown })?.id ?? `#${i}`;
    if (!parsed.success) problems.push(`task ${name}: ${z.prettifyError(parsed.error)}`);
    else tasks.push(parsed.data);
  });
  const byId = new Map<string, TaskPacket>();
  for (const t of tasks) {
    if (byId.has(t.id)) problems.push(`task ${t.id}: the id is used twice`);
    byId.set(t.id, t);
  }
  for (const t of tasks) {
    for (const d of t.dependsOn) {
      if (!byId.has(d)) problems.push(`task ${t.id}: depends on "${d}", which is not in the plan`);
    }
    for (const d of t.optional) {
      if (!t.dependsOn.includes(d)) {
        problems.push(`task ${t.id}: "${d}" is optional but not in dependsOn; add it there`);
      }
    }
    if (!capabilities.has(t.capability)) {
      problems.push(
        `task ${t.id}: no agent has capability "${t.capability}" (known: ${
          [...capabilities].sort().join(", ")
        })`,
      );
    }
  }
  // Kahn's algorithm; what is left over lies on a cycle.
  const indegree = new Map(tasks.map((t) => [t.id, t.dependsOn.filter((d) => byId.has(d)).length]));
  const order: TaskPacket[] = [];
  const ready = tasks.filter((t) => indegree.get(t.id) === 0);
  while (ready.length > 0) {
    const t = ready.shift()!;
    order.push(t);
    for (const u of tasks) {
      if (!u.dependsOn.includes(t.id)) continue;
      const n = indegree.get(u.id)! - 1;
      indegree.set(u.id, n);
      if (n === 0) ready.push(u);
    }
  }
  if (order.length < tasks.length) {
    const stuck = tasks.filter((t) => !order.includes(t)).map((t) => t.id);
    problems.push(`the tasks ${stuck.join(", ")} form a dependency cycle`);
  }
  if (problems.length > 0) throw new PlanError(problems);
  return order;
}
