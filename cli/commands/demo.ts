import { Ledger, recordSystem } from "../../ledger/mod.ts";
import { ActorSystem, type SystemEvent } from "../../runtime/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

const actor = (name: string) => new URL(`../../actors/demo/${name}.ts`, import.meta.url).href;

const usage = `Usage: deno task demo [--rounds N] [--ledger PATH] [--json]

Starts a small demo team under one supervisor: "pinger" and "ponger" talk in
workers of their own; "flaky" crashes on a bad job and is restarted. Prints what
happened, from the runtime's event stream, and records every event in the ledger
under a new run id (replay it with: deno task replay RUN_ID).

Options:
  --rounds N   how many ping/pong exchanges (1-100, default 3)
  --ledger P   the ledger file (default .troupe/ledger.duckdb; :memory: for none kept)
  --json       print the events and a summary as JSON
  -h, --help   show this help`;

function describe(e: SystemEvent): string | undefined {
  switch (e.type) {
    case "spawned":
      return `spawned   ${e.actor} (${e.isolation}, incarnation ${e.incarnation})`;
    case "delivered":
      return `message   ${e.from ?? "cli"} -> ${e.actor}: ${e.messageType}`;
    case "crashed":
      return `crashed   ${e.actor}: ${e.error.message}`;
    case "restarted":
      return `restarted ${e.actor} by ${e.supervisor} after ${Math.round(e.delayMs)} ms`;
    case "dead_letter":
      return `dead      ${e.messageType} to ${e.actor}: ${e.reason.split("\n")[0]}`;
    case "stopped":
      return `stopped   ${e.actor} (${e.reason})`;
    case "escalated":
      return `escalated ${e.actor}: ${e.reason}`;
    default:
      return undefined;
  }
}

export const demo = defineCommand({
  name: "demo",
  summary: "a small demo team: messages, a crash and a restart, recorded in the ledger",
  usage,
  flags: { rounds: { type: "string", default: "3" }, json: JSON_FLAG, ledger: LEDGER_FLAG },
  run: (flags, _positionals, fail) => {
    const rounds = Number(flags.rounds);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
      return Promise.resolve(
        fail(`--rounds must be a whole number from 1 to 100, got "${flags.rounds}"`),
      );
    }
    return runDemo(rounds, flags.ledger, flags.json);
  },
});

async function runDemo(rounds: number, ledgerPath: string, json: boolean): Promise<number> {
  const ledger = await Ledger.open(ledgerPath);
  const runId = `run-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  const system = await ActorSystem.start();
  const detach = recordSystem(system, ledger, { runId });
  const events: SystemEvent[] = [];
  system.events.subscribe((e) => {
    events.push(e);
    const line = describe(e);
    if (line && !json) console.log(line);
  });
  let replies: string[] = [];
  let flakyDone = 0;
  try {
    await system.supervise({
      id: "demo",
      strategy: "one_for_one",
      intensity: 3,
      backoff: { minMs: 20, maxMs: 200 },
      children: [
        { actor: { id: "ponger", behaviour: actor("ponger"), capabilities: ["pong"] } },
        { actor: { id: "pinger", behaviour: actor("pinger") } },
        { actor: { id: "flaky", behaviour: actor("flaky") } },
      ],
    });
    replies = await system.ref("pinger").ask<string[]>(
      { type: "start", peer: "ponger", rounds },
      { timeoutMs: 10_000 },
    );
    const flaky = system.ref("flaky");
    await flaky.ask({ type: "job", id: 1 });
    const restarted = system.events.next((e) => e.type === "restarted" && e.actor === "flaky");
    await flaky.ask({ type: "job", id: 2, bad: true }).catch(() => {});
    await restarted;
    flakyDone = await flaky.ask<number>({ type: "job", id: 3 });
  } finally {
    await system.stop({ deadlineMs: 2000 });
    await detach();
    await ledger.close();
  }
  const count = (type: SystemEvent["type"]) => events.filter((e) => e.type === type).length;
  const summary = {
    runId,
    ledger: ledgerPath,
    replies,
    flakyJobsSinceRestart: flakyDone,
    spawned: count("spawned"),
    crashed: count("crashed"),
    restarted: count("restarted"),
    deadLetters: count("dead_letter"),
    messages: count("delivered"),
  };
  if (json) {
    console.log(JSON.stringify({ summary, events }, null, 2));
  } else {
    console.log(
      `\n${replies.length} ping/pong rounds (${replies.at(-1)}), ${summary.crashed} crash, ` +
        `${summary.restarted} restart, ${summary.messages} messages, ${summary.deadLetters} dead letter`,
    );
    console.log(
      ledgerPath === ":memory:"
        ? `run ${runId} was recorded in memory only (--ledger :memory:)`
        : `run ${runId} recorded in ${ledgerPath}; replay it with: deno task replay ${runId}`,
    );
  }
  return 0;
}
