import { join } from "node:path";
import { z } from "zod";
import { TroupeError } from "../../runtime/errors.ts";
import { ReleaseProcess } from "./release_process.ts";
import { ServicePlan } from "./service_plan.ts";

/** A release folder kept under the deploy root, and how its service runs. */
export const ReleaseRecord = z.object({ id: z.string(), plan: ServicePlan, builtAt: z.number() });
export type ReleaseRecord = z.infer<typeof ReleaseRecord>;

/** How far a deploy in progress got: what `--resume` reads after the deployer was killed. */
export const Phase = z.enum(["building", "started", "switched"]);
/** How far a deploy in progress got. */
export type Phase = z.infer<typeof Phase>;

/**
 * One environment's deployment, in `<root>/<env>/state.json`, rewritten (atomically) at every
 * step: where the proxy listens, the live release, the releases kept, the deploy in progress.
 */
export const DeployState = z.object({
  env: z.string(),
  host: z.string(),
  proxyPort: z.number().int(),
  live: ReleaseProcess.nullable(),
  releases: z.array(ReleaseRecord),
  /** The release being deployed, with its plan (a resumed deploy starts it as planned). */
  candidate: z.object({
    release: ReleaseRecord,
    phase: Phase,
    process: ReleaseProcess.optional(),
  }).nullable(),
});
export type DeployState = z.infer<typeof DeployState>;

/** An environment's folder under the deploy root: its state, releases and proxy. */
export class EnvFolder {
  constructor(readonly root: string, readonly env: string) {}
  get dir(): string {
    return join(this.root, this.env);
  }
  get stateFile(): string {
    return join(this.dir, "state.json");
  }
  release(id: string): string {
    return join(this.dir, "releases", id);
  }
  get proxyDir(): string {
    return join(this.dir, "nginx");
  }

  async read(): Promise<DeployState | undefined> {
    let text;
    try {
      text = await Deno.readTextFile(this.stateFile);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw this.#unreadable((err as Error).message);
    }
    const parsed = DeployState.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "top"}: ${i.message}`);
      throw this.#unreadable(issues.join("; "));
    }
    return parsed.data;
  }

  #unreadable(why: string): TroupeError {
    return new TroupeError(
      "invalid_spec",
      `${this.stateFile} is not a deploy state (${why}): troupe writes it at every step and never ` +
        `half; restore it, or move it aside to start ${this.env} afresh (its releases still ` +
        `running are found by TROUPE_RELEASE in their environment)`,
    );
  }

  /** Written to a new file, then renamed over the old: a kill never leaves half a state. */
  async write(state: DeployState): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const temp = `${this.stateFile}.${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(temp, JSON.stringify(DeployState.parse(state), null, 2) + "\n");
    await Deno.rename(temp, this.stateFile);
  }
}

/** Where an environment's proxy serves. */
export function urlOf(state: DeployState): string {
  return `http://${state.host}:${state.proxyPort}/`;
}

/** A new release's id: when it was made (UTC) and a few random letters, sortable by time. */
export function newReleaseId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${crypto.randomUUID().slice(0, 4)}`;
}
