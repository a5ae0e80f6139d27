import { parseArgs, type ParseArgsConfig } from "node:util";
import { TroupeError } from "../runtime/mod.ts";

/** One CLI command: its help text and its entry point, which returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  main(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

export const LEDGER_FLAG = { type: "string", default: ".troupe/ledger.duckdb" } as const;
/** For the commands that read a ledger: which DuckDB reads it. */
export const ENGINE_FLAG = { type: "string", default: "native" } as const;
/** The `--engine` help line, its text starting at column `width`. */
export const engineHelp = (width: number) =>
  `  ${
    "--engine E".padEnd(width - 2)
  }native (default) or wasm: DuckDB in WebAssembly, which needs\n` +
  `${" ".repeat(width)}no FFI and reads the file as it was when opened`;

export const JSON_FLAG = { type: "boolean", default: false } as const;

/** Tells the user an action waits for their signatures, and how to give them. */
export function printApprovalNeeded(
  r: { id: string; threshold: number; roles: string[]; summary: string },
): void {
  console.error(
    `approval ${r.id} needed (${r.threshold} of ${r.roles.join("/")}) to ${r.summary}\n` +
      `  sign it: deno task approve ${r.id} --key KEY_FILE` +
      `   (or: deno task reject ${r.id} --key KEY_FILE --reason TEXT)`,
  );
}

/**
 * Defines a command once: strict flag parsing (a mistyped flag is an error naming it), `--help`,
 * and expected errors (bad ledger, refused query, bad spec) turned into a message and exit 1.
 * `run` returns the exit code; `fail(message)` prints a usage error and returns 2.
 */
export function defineCommand<T extends Options>(spec: {
  name: string;
  summary: string;
  usage: string;
  flags: T;
  run(
    values: Parsed<T>["values"],
    positionals: string[],
    fail: (message: string) => number,
  ): Promise<number>;
}): Command {
  const fail = (message: string) => {
    console.error(`troupe ${spec.name}: ${message}\n\n${spec.usage}`);
    return 2;
  };
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async main(args) {
      let parsed: Parsed<T>;
      try {
        if (args.includes("--help") || args.includes("-h")) {
          console.log(spec.usage);
          return 0;
        }
        parsed = parseArgs({ args, options: spec.flags, allowPositionals: true, strict: true });
      } catch (err) {
        return fail((err as Error).message);
      }
      try {
        return await spec.run(parsed.values, parsed.positionals, fail);
      } catch (err) {
        // Every troupe error is the user's to act on: a message, exit 1, no stack.
        if (err instanceof TroupeError) {
          console.error(`troupe ${spec.name}: ${err.message}`);
          return 1;
        }
        throw err;
      }
    },
  };
}
