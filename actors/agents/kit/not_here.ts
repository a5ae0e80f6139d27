/**
 * Why a repository's command could not run on this machine, as opposed to failing: a tool not
 * installed, the network it needed (the sandbox has none), or this machine's own setup. A hosted
 * runner would not meet these, so what they stopped is "could not run here", never "failed".
 * The tester, the CI verifier and the API documenter read outputs with the same rules.
 */

/** What a command prints when it needed the network (or a registry it could only reach over it). */
export const NETWORK =
  /ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED|network is unreachable|Could not resolve host|Temporary failure in name resolution|Unknown host|UnknownHostException|Could not reach host/i;

/** A package manager told to work offline that lacks what it needs (cargo's words). */
const OFFLINE = /you're using offline mode|--offline was specified/;

/** This machine's or its sandbox's failures, with what to say of them. */
export const MACHINE: [RegExp, string][] = [
  [/externally-managed-environment/, "this machine's Python refuses installs (PEP 668)"],
  [/Error loading java\.security file/, "the JDK could not read its security settings here"],
  [/^bwrap: .*$/m, "the sandbox could not start the command"],
  [
    /The iconv OR mbstring extension is required/,
    "this machine's PHP lacks mbstring (php-mbstring)",
  ],
  [
    /NoSuchFileException: \/(etc|usr|opt)\/\S+/,
    "a file of this machine's toolchain is not in the sandbox",
  ],
];

/**
 * The program a command could not find, when that is why it stopped: exit 127 and the shell's
 * `sh: 1: uv: not found` (or bash's `uv: command not found`).
 */
export function missingTool(code: number | null, output: string): string | undefined {
  if (code !== 127) return undefined;
  return output.match(/(?:^|: )([^\s:]+): (?:command )?not found\s*$/m)?.[1];
}

/** Where `re` matches in `output`, with the rest of its line: what happened, in a few words. */
export function excerpt(output: string, re: RegExp): string {
  const at = output.match(new RegExp(`(?:${re.source})[^\\n]*`, re.flags.replace("g", "")));
  const text = (at?.[0] ?? "").trim();
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/**
 * Why a command that exited `code` with `output`, in a sandbox without the network, could not
 * run here; nothing when it ran and its result is the project's own. A command that ran tests
 * (`ranTests`) ran: its failures are the project's.
 */
export function whyNotHere(
  code: number | null,
  output: string,
  ranTests = false,
): string | undefined {
  if (code === 0 || ranTests) return undefined;
  const tool = missingTool(code, output);
  if (tool) return `${tool} is not installed here`;
  const machine = MACHINE.find(([re]) => re.test(output));
  if (machine) return `${machine[1]}: ${output.match(machine[0])?.[0]}`;
  if (OFFLINE.test(output)) {
    return "its dependencies are not downloaded here, and the sandbox has no network";
  }
  if (NETWORK.test(output)) {
    return `it needs the network, which the sandbox does not have (${excerpt(output, NETWORK)})`;
  }
  return undefined;
}
