import type { Command } from "./command.ts";
import { approvals, approve, reject } from "./commands/approve.ts";
import { chaos } from "./commands/chaos.ts";
import { demo } from "./commands/demo.ts";
import { deploy } from "./commands/deploy.ts";
import { keys } from "./commands/keys.ts";
import { ledgerCommand } from "./commands/ledger.ts";
import { plugin } from "./commands/plugin.ts";
import { policy } from "./commands/policy.ts";
import { replay } from "./commands/replay.ts";
import { diff } from "./commands/diff.ts";
import { run } from "./commands/run.ts";
import { lessons } from "./commands/lessons.ts";
import { serve } from "./commands/serve.ts";
import { mcp } from "./commands/mcp.ts";
import { node } from "./commands/node.ts";
import { sql } from "./commands/sql.ts";
import { verify } from "./commands/verify.ts";

/** Every CLI command; `deno task NAME` runs `cli/main.ts NAME`. */
const COMMANDS: Command[] = [
  run,
  serve,
  mcp,
  node,
  deploy,
  demo,
  sql,
  replay,
  diff,
  verify,
  ledgerCommand,
  policy,
  keys,
  approve,
  reject,
  approvals,
  plugin,
  lessons,
  chaos,
];

const HELP = `troupe: an actor runtime for teams of software-development agents

Usage: deno task <command> [options]   (each command has --help)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`troupe: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  return await command.main(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
