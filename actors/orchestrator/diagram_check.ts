/** What checking a run's Mermaid diagrams found. */
export interface DiagramCheck {
  /** Diagrams parsed by Mermaid's own parser (the one GitHub renders them with). */
  checked: number;
  problems: { path: string; error: string }[];
}

/** The ```mermaid blocks of a Markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

/**
 * Parses every Mermaid diagram of the given Markdown documents with Mermaid (in a worker of its
 * own, see `diagram_worker.ts`); nothing is started when there is none.
 */
export async function checkDiagrams(docs: { path: string; text: string }[]): Promise<DiagramCheck> {
  const diagrams = docs.flatMap((d) =>
    mermaidBlocks(d.text).map((text) => ({ path: d.path, text }))
  );
  if (diagrams.length === 0) return { checked: 0, problems: [] };
  const worker = new Worker(new URL("./diagram_worker.ts", import.meta.url).href, {
    type: "module",
  });
  // The worker's next message (its answers come one at a time: "ready", then the parses).
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`the diagram checker failed: ${e.message}`));
      };
    });
  try {
    await next(); // "ready": Mermaid is loaded
    const answer = next();
    worker.postMessage(diagrams.map((d) => d.text));
    const errors = await answer as (string | null)[];
    return {
      checked: diagrams.length,
      problems: diagrams.flatMap((d, i) => errors[i] ? [{ path: d.path, error: errors[i]! }] : []),
    };
  } finally {
    worker.terminate();
  }
}

/** What the diagram check found, as the report says it. */
export function diagramLine(d: DiagramCheck): string {
  if (d.problems.length === 0) return `Diagrams: ${d.checked} parsed by Mermaid's own parser.`;
  return `Diagrams: ${d.checked - d.problems.length} of ${d.checked} parsed by Mermaid's own ` +
    `parser; not: ${d.problems.map((p) => `${p.path}: ${p.error}`).join("; ")}`;
}
