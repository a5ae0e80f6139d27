/** One figure of a benchmark run, and what a benchmark module gives back. */
export interface Figure {
  name: string;
  value: number;
  /** Per second unless it says otherwise. */
  unit?: "ms" | "µs" | "MiB" | "% of a core";
  /** A goal in the figure's own unit, printed beside it (e.g. "≥ 1,000,000"). */
  target?: string;
}

/** A comparison to print: [figure, baseline, target ("" when there is none)]. */
export type Ratio = [string, string, string];

/** A benchmark module's figures and the comparisons among them. */
export interface Section {
  figures: Figure[];
  ratios: Ratio[];
}

/** Units per second of `run`, timed from its start to its end. */
export async function rate(units: number, run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return units / ((performance.now() - start) / 1000);
}

/** The middle value. */
export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
