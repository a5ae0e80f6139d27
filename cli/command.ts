import { parseArgs, type ParseArgsConfig } from "node:util";

/** One CLI command: its help text and its entry point, which returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  main(args: string[]): Promise<number>;
}

/** Parses flags strictly, so a mistyped flag is an error naming it rather than ignored. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
) {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

export function usageError(command: Command, message: string): number {
  console.error(`troupe ${command.name}: ${message}\n\n${command.usage}`);
  return 2;
}

/** Runs `fn`, turning expected errors (bad ledger, refused query) into a message and exit 1. */
export async function reportErrors(command: Command, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.name === "LedgerError" || e.name === "TroupeError") {
      console.error(`troupe ${command.name}: ${e.message}`);
      return 1;
    }
    throw err;
  }
}

export const LEDGER_FLAG = { type: "string", default: ".troupe/ledger.duckdb" } as const;
export const JSON_FLAG = { type: "boolean", default: false } as const;
export const HELP_FLAG = { type: "boolean", short: "h", default: false } as const;
