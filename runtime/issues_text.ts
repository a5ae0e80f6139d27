/** A validation issue as zod reports it: what is wrong, and where. */
export interface Issue {
  message: string;
  path: readonly PropertyKey[];
}

/**
 * A validation error's issues as text, in zod's `prettifyError` form (`✖ what` and `→ at where`).
 * Written here so that a worker whose behaviour declares no schema never loads zod (5.9 MB): the
 * runtime's worker entry imports this, not zod.
 */
export function issuesText(error: { issues: readonly Issue[] }): string {
  return [...error.issues]
    .sort((a, b) => a.path.length - b.path.length)
    .map((i) => `✖ ${i.message}${i.path.length ? `\n  → at ${pathText(i.path)}` : ""}`)
    .join("\n");
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((seg, n) =>
    typeof seg === "number"
      ? `[${seg}]`
      : typeof seg === "string" && /^[A-Za-z_$][\w$]*$/.test(seg)
      ? `${n === 0 ? "" : "."}${seg}`
      : `[${JSON.stringify(String(seg))}]`
  ).join("");
}
