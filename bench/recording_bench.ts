/**
 * Every message recorded to the ledger (a `delivered` event each, as `deno task run` records)
 * next to the same asks with recording off, for an inline and a worker actor, in the same run.
 * A recorded run's time ends when every event is committed.
 */
import { Ledger, recordSystem } from "../ledger/mod.ts";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { rate, type Section } from "./figure.ts";

const CRASHER = new URL("./crasher_actor.ts", import.meta.url).href;

async function asks(inline: boolean, record: boolean, n: number, path: string): Promise<number> {
  await using ledger = await Ledger.open(path);
  await using system = await ActorSystem.start();
  const detach = record ? recordSystem(system, ledger, { runId: "bench" }) : undefined;
  const ref = await system.spawn(
    inline
      ? { id: "echo", isolation: "inline", behaviour: defineActor({ receive: () => "ok" }) }
      : { id: "echo", behaviour: CRASHER },
  );
  await ref.ask("ping");
  return await rate(n, async () => {
    for (let i = 0; i < n; i++) await ref.ask("ping");
    await detach?.();
  });
}

export async function benchRecording(quick: boolean): Promise<Section> {
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-recording-" });
  try {
    const figures = [];
    for (
      const [kind, inline, n] of [["inline", true, quick ? 500 : 100_000], [
        "worker",
        false,
        quick ? 100 : 5_000,
      ]] as const
    ) {
      const off = await asks(inline, false, n, `${dir}/${kind}-off.duckdb`);
      const on = await asks(inline, true, n, `${dir}/${kind}-on.duckdb`);
      figures.push(
        { name: `recording off: asks to one ${kind} actor`, value: off },
        { name: `every message recorded: asks to one ${kind} actor`, value: on },
      );
    }
    return {
      figures,
      ratios: ["inline", "worker"].map((kind) => [
        `every message recorded: asks to one ${kind} actor`,
        `recording off: asks to one ${kind} actor`,
        "≥ 0.8",
      ]),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
