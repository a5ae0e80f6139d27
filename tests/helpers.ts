import { ActorSystem, type SystemOptions } from "../runtime/mod.ts";

export const ISOLATIONS = ["worker", "inline"] as const;

export const RECORDER = new URL("./fixtures/actors/recorder.ts", import.meta.url).href;

export function fixture(name: string): string {
  return new URL(`./fixtures/actors/${name}`, import.meta.url).href;
}

/** Runs `fn` with a fresh system that is always stopped afterwards. */
export async function withSystem(
  fn: (system: ActorSystem) => Promise<void>,
  options: SystemOptions = {},
): Promise<void> {
  const system = await ActorSystem.start(options);
  try {
    await fn(system);
  } finally {
    await system.stop({ deadlineMs: 1000 });
  }
}

/** Polls `check` until it is true, failing after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
