import { z } from "zod";
import { eventType } from "../../ledger/mod.ts";
import { ServicePlan } from "./service_plan.ts";

/**
 * A deployment's ledger events, one run each (`deploy-<release id>`), written by the deployer:
 * every step of a release (built, started, checked, switched, rolled back, live) with its id.
 */

const release = { releaseId: z.string(), env: z.string() };

/** A deploy began: a release built from the repository, or one deployed before (a rollback). */
export const DeployStarted = eventType(
  "deploy_started",
  z.object({
    ...release,
    /** `build`: a new release from the repository; `rollback`: a release deployed before. */
    source: z.enum(["build", "rollback"]),
    repo: z.string().nullable(),
    plan: ServicePlan,
  }),
);
/** The release's folder was made and its build ran (or failed, with why). */
export const ReleaseBuilt = eventType(
  "release_built",
  z.object({ ...release, ok: z.boolean(), ms: z.number(), error: z.string().optional() }),
);
/** The release's service was started on its own port. */
export const ReleaseStarted = eventType(
  "release_started",
  z.object({ ...release, port: z.number().int(), pid: z.number().int() }),
);
/** A health check of the release, before the switch or while watched after it. */
export const ReleaseChecked = eventType(
  "release_checked",
  z.object({
    ...release,
    /** Before the switch (a release that fails it is never switched to), or while watched after. */
    stage: z.enum(["before_switch", "watch"]),
    healthy: z.boolean(),
    path: z.string(),
    status: z.number().int(),
    tries: z.number().int(),
    /** Its processes had ended before it answered (a crash at start). */
    exited: z.boolean().optional(),
  }),
);
/** The proxy now routes to the release, the release before it kept as its backup. */
export const ReleaseSwitched = eventType(
  "release_switched",
  z.object({ ...release, from: z.string().nullable(), port: z.number().int() }),
);
/** The release failed its watch: the proxy went back to the release before, and it was stopped. */
export const ReleaseRolledBack = eventType(
  "release_rolled_back",
  z.object({ ...release, to: z.string().nullable(), reason: z.string() }),
);
/** The release held through its watch window: it serves alone, the one before it stopped. */
export const ReleaseLive = eventType(
  "release_live",
  z.object({ ...release, retired: z.string().nullable() }),
);
/** Not deployed: policy, an approval, the build or the health check said no. */
export const DeployRefused = eventType(
  "deploy_refused",
  z.object({ ...release, reason: z.string() }),
);
/** `deploy --resume` after a deploy was interrupted: what it found and did. */
export const DeployResumed = eventType(
  "deploy_resumed",
  z.object({ ...release, phase: z.string(), action: z.string() }),
);
