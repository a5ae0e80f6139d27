import MiniSearch from "minisearch";
import { z } from "zod";
import { eventType, type Ledger } from "../../ledger/mod.ts";
import { cosine, type LocalEmbedder } from "./local_embedder.ts";

/**
 * What a run learned from one task: what kind of task it was, who did it with which model under
 * which plan, how it ended and what it cost. The router and the planner read these back.
 */
export const Lesson = eventType(
  "lesson",
  z.object({
    goal: z.string(),
    taskId: z.string(),
    kind: z.string(),
    /** The agent's template (`coder`), not its instance. */
    agent: z.string().nullable(),
    model: z.string().nullable(),
    plan: z.enum(["offline", "model"]),
    outcome: z.enum(["succeeded", "dead", "skipped"]),
    /** The failure's first words (`the model could not be asked`), or its code. */
    errorClass: z.string().nullable(),
    durationMs: z.number().nullable(),
    tokens: z.number().int().min(0),
    costUsd: z.number().min(0),
  }),
);
/** A lesson's payload. */
export type Lesson = z.infer<typeof Lesson.payload>;

/** How a model has done on one kind of task. */
export interface ModelRecord {
  model: string;
  successes: number;
  failures: number;
  /** Average dollars per task. */
  costUsd: number;
}

/** Each model's record on `kind`, from every lesson in the ledger. */
export async function modelRecords(ledger: Ledger, kind: string): Promise<ModelRecord[]> {
  const by = new Map<string, { s: number; f: number; cost: number; n: number }>();
  for await (const e of ledger.events([Lesson])) {
    const l = e.payload;
    if (l.kind !== kind || !l.model || l.outcome === "skipped") continue;
    const r = by.get(l.model) ?? { s: 0, f: 0, cost: 0, n: 0 };
    if (l.outcome === "succeeded") r.s++;
    else r.f++;
    r.cost += l.costUsd;
    r.n++;
    by.set(l.model, r);
  }
  return [...by].map(([model, r]) => ({
    model,
    successes: r.s,
    failures: r.f,
    costUsd: r.n ? r.cost / r.n : 0,
  }));
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shape >= 1 here (counts plus one). */
function gamma(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      // A standard normal by Box-Muller.
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return d * v;
    }
  }
}

/**
 * Orders candidate models for a kind of task by Thompson sampling: each model's chance of
 * success is drawn from Beta(1 + successes, 1 + failures) (a model never tried draws from the
 * uniform prior, so it gets explored), divided by (1 + its average cost / `costScale`), so that
 * success per dollar wins. A seeded `random` makes the order repeatable. Written here: the
 * sampler is twenty lines, smaller than a statistics dependency.
 */
export function rankModels(
  candidates: string[],
  records: ModelRecord[],
  random: () => number,
  costScale = 0.01,
): string[] {
  const scored = candidates.map((model) => {
    const r = records.find((x) => x.model === model);
    const a = gamma(1 + (r?.successes ?? 0), random);
    const b = gamma(1 + (r?.failures ?? 0), random);
    return { model, score: (a / (a + b)) / (1 + (r?.costUsd ?? 0) / costScale) };
  });
  return scored.sort((x, y) => y.score - x.score).map((s) => s.model);
}

/**
 * Lessons like `query` (goal words, kinds, errors, models), best first: by embedding similarity
 * when an embedder is given (a local model: "pipeline" finds lessons about "ci"), else by BM25
 * (MiniSearch).
 */
export async function findLessons(
  ledger: Ledger,
  query: string,
  limit = 10,
  embedder?: LocalEmbedder,
): Promise<(Lesson & { seq: number; runId: string | null; score: number })[]> {
  const docs: (Lesson & { id: number; seq: number; runId: string | null; text: string })[] = [];
  for await (const e of ledger.events([Lesson])) {
    const l = e.payload;
    docs.push({
      ...l,
      id: e.seq,
      seq: e.seq,
      runId: e.runId,
      text: [l.goal, l.kind, l.agent, l.model, l.outcome, l.errorClass].filter(Boolean).join(" "),
    });
  }
  if (embedder) {
    const [q, ...vectors] = await embedder.embed([query, ...docs.map((d) => d.text)]);
    return docs.map((d, i) => ({ d, score: cosine(q, vectors[i]) }))
      .filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map(({ d, score }) => {
        const { id: _id, text: _text, ...lesson } = d;
        return { ...lesson, score };
      });
  }
  const index = new MiniSearch({ fields: ["text"], storeFields: [] });
  index.addAll(docs);
  const byId = new Map(docs.map((d) => [d.id, d]));
  return index.search(query, { prefix: true, fuzzy: 0.2 }).slice(0, limit).map((hit) => {
    const { id: _id, text: _text, ...lesson } = byId.get(hit.id as number)!;
    return { ...lesson, score: hit.score };
  });
}
