import { TroupeError } from "../../runtime/errors.ts";

/** A plan refused before anything ran; each problem names the task and what to fix. */
export class PlanError extends TroupeError<"invalid_plan"> {
  constructor(readonly problems: string[]) {
    super("invalid_plan", `the plan is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PlanError";
  }
}
