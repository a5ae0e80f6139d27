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
