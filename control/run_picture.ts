import dagre from "@dagrejs/dagre";
import { z } from "zod";
import type { Ledger } from "../ledger/mod.ts";
import type { RunView } from "./run_view.ts";

/** A run as a picture: its task graph laid out, and a timeline of its tasks and model calls. */
export const RunPicture = z.object({
  graph: z.object({
    width: z.number(),
    height: z.number(),
    nodes: z.array(z.object({
      id: z.string(),
      state: z.string(),
      x: z.number(),
      y: z.number(),
      width: z.number(),
      height: z.number(),
    })),
    edges: z.array(z.object({
      from: z.string(),
      to: z.string(),
      points: z.array(z.object({ x: z.number(), y: z.number() })),
    })),
  }),
  /** Bars in milliseconds from the run's start: each task's attempts and each model call. */
  timeline: z.array(z.object({
    lane: z.string(),
    kind: z.enum(["task", "model"]),
    start: z.number(),
    end: z.number(),
    label: z.string(),
  })),
});
export type RunPicture = z.infer<typeof RunPicture>;

const NODE = { width: 130, height: 36 };

/**
 * Lays a run's task DAG out with dagre (left to right, one rank per dependency depth) and reads
 * its timeline from the ledger: when each task attempt started and ended, and each model call.
 */
export async function runPicture(ledger: Ledger, view: RunView): Promise<RunPicture> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 48, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of view.tasks) g.setNode(t.id, { ...NODE });
  const ids = new Set(view.tasks.map((t) => t.id));
  for (const t of view.tasks) {
    for (const d of t.dependsOn) if (ids.has(d)) g.setEdge(d, t.id);
  }
  dagre.layout(g);
  const graph = g.graph();
  const state = new Map(view.tasks.map((t) => [t.id, t.state]));
  const run = view.runId.replaceAll("'", "''");
  const rows = (await ledger.query(
    `SELECT epoch_ms(ts) AS t, type,
            json_extract_string(payload, '$.taskId') AS task,
            json_extract_string(payload, '$.role') AS role,
            json_extract_string(payload, '$.model') AS model,
            CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS ms
       FROM events WHERE run_id = '${run}' AND type IN
         ('run_started', 'task_started', 'task_succeeded', 'task_failed', 'task_dead', 'llm_call')
      ORDER BY seq`,
  )).rows;
  const t0 = Number(rows[0]?.t ?? 0);
  const open = new Map<string, number>();
  const timeline: RunPicture["timeline"] = [];
  for (const r of rows) {
    const at = Number(r.t) - t0;
    const task = String(r.task ?? "");
    if (r.type === "task_started") open.set(task, at);
    else if (r.type === "llm_call") {
      const ms = Number(r.ms ?? 0);
      timeline.push({
        lane: `model: ${r.role}`,
        kind: "model",
        start: Math.max(0, at - ms),
        end: at,
        label: `${r.model} for ${task || r.role}`,
      });
    } else if (r.type !== "run_started" && open.has(task)) {
      timeline.push({
        lane: task,
        kind: "task",
        start: open.get(task)!,
        end: at,
        label: `${task}: ${String(r.type).replace("task_", "")}`,
      });
      open.delete(task);
    }
  }
  return {
    graph: {
      width: graph.width ?? 0,
      height: graph.height ?? 0,
      nodes: g.nodes().map((id) => {
        const n = g.node(id);
        return { id, state: state.get(id) ?? "pending", x: n.x, y: n.y, ...NODE };
      }),
      edges: g.edges().map((e) => ({
        from: e.v,
        to: e.w,
        points: ((g.edge(e).points ?? []) as { x: number; y: number }[]).map((p) => ({
          x: p.x,
          y: p.y,
        })),
      })),
    },
    timeline,
  };
}
