/**
 * Run by the supervision benchmark in a process of its own, so that one measurement's garbage
 * is not the next one's: starts `count` idle workers (`raw` Workers or troupe worker actors),
 * then prints the resident memory they added and the CPU time the process spent while they sat
 * idle for `ms`, as JSON.
 */
import process from "node:process";
import { ActorSystem } from "../runtime/mod.ts";

const [kind, countArg, msArg] = Deno.args;
const count = Number(countArg);
const ms = Number(msArg);
// The smallest behaviour, as the raw Worker runs the smallest echo: what is measured is the runtime.
const BEHAVIOUR = new URL("./crasher_actor.ts", import.meta.url).href;
const ECHO = "data:text/javascript," +
  encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");

const settle = (t: number) => new Promise((r) => setTimeout(r, t));
await settle(200);
const rss0 = process.memoryUsage().rss;
let stop: () => Promise<void> | void;
if (kind === "raw") {
  const workers = Array.from({ length: count }, () => new Worker(ECHO, { type: "module" }));
  await Promise.all(workers.map((w) =>
    new Promise((resolve) => {
      w.onmessage = resolve;
      w.postMessage(1);
    })
  ));
  stop = () => workers.forEach((w) => w.terminate());
} else {
  const system = await ActorSystem.start();
  for (let i = 0; i < count; i++) {
    const ref = await system.spawn({
      id: `idle-${i}`,
      behaviour: BEHAVIOUR,
      observeMessages: false,
    });
    await ref.ask("ping");
  }
  stop = () => system.stop();
}
await settle(300);
const rss = process.memoryUsage().rss - rss0;
const cpu0 = process.cpuUsage();
await settle(ms);
const cpu = process.cpuUsage(cpu0);
await stop();
console.log(
  JSON.stringify({
    rssPerWorker: rss / count,
    cpuShare: (cpu.user + cpu.system) / 1000 / ms / count,
  }),
);
Deno.exit(0);
