import { isAbsolute, join, relative, resolve } from "node:path";
import { z } from "zod";
import { type ForkRequest, type LlmConfig, RunRequest } from "../actors/mod.ts";
import { BUILTIN_PACKS } from "../policies/mod.ts";
import { TroupeError } from "../runtime/mod.ts";
import type { Caller, Role } from "./tokens.ts";

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a name, not a path");

/**
 * A run as a remote caller may ask for it (HTTP, and later MCP). Everything that would widen
 * the server's power is the server's to decide, so the request has no field for it: no output
 * folder, no unsandboxed runs, no provider URL or key variable, no policy or pack path. The
 * repository is a folder under one of the server's roots; policies, packs and model providers
 * are chosen by the names the server's configuration gives them.
 */
export const RemoteRunRequest = RunRequest.pick({
  goal: true,
  apply: true,
  runTests: true,
  verifyCi: true,
  apiDocs: true,
  allowInstallNetwork: true,
  replayModels: true,
}).extend({
  repo: z.string().min(1).max(4096).describe(
    "a folder under one of the server's repository roots (--repos): relative to the first root, or absolute",
  ),
  autonomy: z.number().int().min(1).max(5).optional().describe(
    "at most the ceiling the server sets for the caller's role (the default: 3, or that ceiling)",
  ),
  policies: z.array(Name).max(32).default([]).describe("names of the server's policy sets"),
  compliance: z.array(Name).max(32).default([]).describe(
    `built-in packs (${BUILTIN_PACKS.join(", ")}) or names of the server's packs`,
  ),
  llm: z.union([z.literal(true), z.strictObject({ providers: z.array(Name).min(1).max(16) })])
    .optional().describe(
      "plan with the server's models: true for all its providers, or some of them by name",
    ),
  maxAgents: z.number().int().min(8).max(10).default(10),
}).strict();
/** A run as a remote caller writes it. */
export type RemoteRunRequest = z.input<typeof RemoteRunRequest>;

/** What the server's own configuration lets remote runs do; nothing in a request widens it. */
export interface RunConfinement {
  /** Repositories runs may touch are under these folders (default: the server's folder). */
  repos: string[];
  /** Runs write their results below this folder, one folder per run (default .troupe/runs). */
  outRoot: string;
  /** The highest autonomy level each role may ask for (default 2 for operators, 3 for admins). */
  autonomy: Partial<Record<Role, number>>;
  /** Policy sets by name: name → file. */
  policies: Record<string, string>;
  /** Compliance packs by name beyond the built-in ones: name → file. */
  compliance: Record<string, string>;
  /** The models runs may plan with, when the server has any. */
  llm?: LlmConfig;
  /** Whether `--verify-ci` install steps may reach the network. */
  allowInstallNetwork: boolean;
}

/** The default ceilings: an operator's runs wait for approval before writing or running code. */
export const DEFAULT_AUTONOMY: Record<Role, number> = {
  viewer: 1,
  approver: 1,
  operator: 2,
  admin: 3,
};

/** A confinement with the defaults filled in and the roots resolved to real paths. */
export async function confinement(o: Partial<RunConfinement> = {}): Promise<RunConfinement> {
  const roots = await Promise.all((o.repos?.length ? o.repos : ["."]).map(async (r) => {
    try {
      return await Deno.realPath(resolve(r));
    } catch (err) {
      throw new TroupeError(
        "invalid_spec",
        `the repository root ${r} cannot be used: ${(err as Error).message}`,
        { root: r },
      );
    }
  }));
  return {
    repos: roots,
    outRoot: resolve(o.outRoot ?? join(".troupe", "runs")),
    autonomy: { ...DEFAULT_AUTONOMY, ...o.autonomy },
    policies: o.policies ?? {},
    compliance: o.compliance ?? {},
    ...(o.llm ? { llm: o.llm } : {}),
    allowInstallNetwork: o.allowInstallNetwork ?? false,
  };
}

const refuse = (message: string, field: string) => new TroupeError("forbidden", message, { field });

/**
 * Turns a remote request into the run the server will start, or refuses it naming the field and
 * what the server allows. The repository's real path (symbolic links followed) must be inside a
 * root; errors name the request's own text, never what a file holds or whether it exists.
 */
export async function confineRun(
  input: RemoteRunRequest,
  caller: Caller,
  c: RunConfinement,
): Promise<RunRequest & { repo: string }> {
  const r = RemoteRunRequest.parse(input);
  const roots = c.repos.join(", ");
  const repo = await Deno.realPath(isAbsolute(r.repo) ? r.repo : resolve(c.repos[0], r.repo))
    .catch(() => undefined);
  if (!repo || !c.repos.some((root) => inside(repo, root))) {
    throw refuse(
      `repo "${r.repo}" is not a folder under this server's repository roots (${roots}); ` +
        "the server's --repos decides which repositories runs may touch",
      "repo",
    );
  }
  const ceiling = c.autonomy[caller.role] ?? 1;
  const autonomy = r.autonomy ?? Math.min(3, ceiling);
  if (autonomy > ceiling) {
    throw refuse(
      `autonomy ${autonomy} is above the ceiling of ${ceiling} this server sets for the ` +
        `${caller.role} role; ask for ${ceiling} or less`,
      "autonomy",
    );
  }
  const unknown = (kind: string, names: string[], known: string[]) => {
    const missing = names.find((n) => !known.includes(n));
    if (missing) {
      throw refuse(
        `no ${kind} named "${missing}" on this server; it has: ${known.join(", ") || "none"}`,
        kind === "policy set" ? "policies" : "compliance",
      );
    }
  };
  unknown("policy set", r.policies, Object.keys(c.policies));
  unknown("compliance pack", r.compliance, [...BUILTIN_PACKS, ...Object.keys(c.compliance)]);
  if (r.allowInstallNetwork && !c.allowInstallNetwork) {
    throw refuse(
      "this server does not let install steps reach the network (allowInstallNetwork)",
      "allowInstallNetwork",
    );
  }
  let llm: LlmConfig | undefined;
  if (r.llm) {
    if (!c.llm) throw refuse("this server has no models configured (--llm-config)", "llm");
    const wanted = r.llm === true ? undefined : r.llm.providers;
    const names = c.llm.providers.map((p) => p.name);
    const missing = wanted?.find((n) => !names.includes(n));
    if (missing) {
      throw refuse(`no provider named "${missing}"; this server has: ${names.join(", ")}`, "llm");
    }
    llm = wanted
      ? { ...c.llm, providers: c.llm.providers.filter((p) => wanted.includes(p.name)) }
      : c.llm;
  }
  return {
    goal: r.goal,
    repo,
    outRoot: c.outRoot,
    apply: r.apply,
    autonomy,
    policies: r.policies.map((n) => c.policies[n]),
    compliance: r.compliance.map((n) => c.compliance[n] ?? n),
    runTests: r.runTests,
    unsandboxed: false,
    verifyCi: r.verifyCi,
    apiDocs: r.apiDocs,
    allowInstallNetwork: r.allowInstallNetwork,
    ...(llm ? { llm } : {}),
    ...(r.replayModels ? { replayModels: r.replayModels } : {}),
    maxAgents: r.maxAgents,
  };
}

/** A fork as a remote caller may ask for it: where, and the changes the server allows. */
export const RemoteForkRequest = RemoteRunRequest.pick({
  goal: true,
  autonomy: true,
  policies: true,
  llm: true,
}).partial().extend({
  at: z.string().min(1).max(200).describe("a task id of the parent, or an event seq"),
}).strict();
/** A fork as a remote caller writes it. */
export type RemoteForkRequest = z.input<typeof RemoteForkRequest>;

/**
 * Turns a remote fork into the fork the server will start, or refuses it: the parent's
 * repository must be under the server's roots, the autonomy within the caller's ceiling, the
 * policies and models the server's by name; results go under the server's output root, repository
 * code runs sandboxed, and nothing is written into the repository (no apply) nor fetched by install
 * steps unless the server allows, whatever the parent run did.
 */
export async function confineFork(
  input: RemoteForkRequest,
  parentRepo: string,
  caller: Caller,
  c: RunConfinement,
): Promise<ForkRequest> {
  const r = RemoteForkRequest.parse(input);
  const run = await confineRun(
    {
      repo: parentRepo,
      ...(r.goal ? { goal: r.goal } : {}),
      ...(r.autonomy !== undefined ? { autonomy: r.autonomy } : {}),
      policies: r.policies ?? [],
      ...(r.llm ? { llm: r.llm } : {}),
    },
    caller,
    c,
  );
  return {
    at: r.at,
    ...(r.goal ? { goal: r.goal } : {}),
    autonomy: run.autonomy!,
    ...(r.policies ? { policies: run.policies } : {}),
    ...(run.llm ? { llm: run.llm } : {}),
    ownModelsOnly: true,
    outRoot: c.outRoot,
    apply: false,
    unsandboxed: false,
    allowInstallNetwork: c.allowInstallNetwork,
  };
}

/** True when `path` is `root` or below it (both real paths). */
function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
