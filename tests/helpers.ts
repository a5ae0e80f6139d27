import { ActorSystem, type FakeClock, type SystemOptions } from "../runtime/mod.ts";

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

/**
 * Moves `clock` forward `stepMs` at a time until `check` is true: for what needs both a timer to
 * fall due and real work (a worker's reply, a restart) to happen. Bounded in steps and in real
 * time; only the real work waits on the machine, never an assertion about time.
 */
export async function advanceUntil(
  clock: FakeClock,
  check: () => boolean,
  what: string,
  { stepMs = 10, maxSteps = 2000, realMs = 30_000 } = {},
): Promise<void> {
  const deadline = performance.now() + realMs;
  for (let step = 0; !check(); step++) {
    if (step >= maxSteps || performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what} (${step} steps of ${stepMs} ms)`);
    }
    await clock.tick(stepMs);
    await new Promise((r) => setTimeout(r, 2));
  }
}
