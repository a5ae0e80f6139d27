/** A plan refused before anything ran; each problem names the task and what to fix. */
export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`the plan is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PlanError";
  }
}
