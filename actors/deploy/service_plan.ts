import { join } from "node:path";
import { z } from "zod";
import { TroupeError } from "../../runtime/mod.ts";

/**
 * How a service is built and started in a release folder. Every command is an argument list run
 * in the release's own folder, with `PORT` set to the port it must listen on (the convention of
 * Procfile hosts), and nothing else assumed of it.
 */
export const ServicePlan = z.object({
  /** What the plan was read from: `Procfile`, `package.json`, `deno.json` or a Python entry. */
  from: z.string(),
  /** Run once in the new release's folder before it starts; none when nothing needs building. */
  build: z.array(z.string()).min(1).optional(),
  start: z.array(z.string()).min(1),
});
/** How a service is built and started in a release folder (see the schema). */
export type ServicePlan = z.infer<typeof ServicePlan>;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TroupeError(
      "invalid_spec",
      `${path} is not valid JSON (${(err as Error).message}); fix it to deploy from it`,
    );
  }
}

const isFile = async (path: string) => (await readText(path)) !== undefined;

/**
 * Finds how to run the repository's web service, in this order: a Procfile's `web` process, a
 * Node package (`start` script, else `main`), a Deno project (`start` task, else `main.ts` or
 * `server.ts`), a Python web app (`app.py`, `main.py`, `server.py`, `wsgi.py` or `asgi.py`).
 */
export async function detectService(repo: string): Promise<ServicePlan> {
  const procfile = await readText(join(repo, "Procfile"));
  const web = procfile?.split("\n").map((l) => l.match(/^web:\s*(.+)$/)?.[1]).find(Boolean);
  if (web) return { from: "Procfile", start: ["sh", "-c", web.trim()] };

  const pkg = await readJson(join(repo, "package.json"));
  if (pkg) {
    const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
    const build = typeof scripts.build === "string" ? ["npm", "run", "build"] : undefined;
    if (typeof scripts.start === "string") {
      return { from: "package.json", ...(build ? { build } : {}), start: ["npm", "start"] };
    }
    if (typeof pkg.main === "string" && await isFile(join(repo, pkg.main))) {
      return { from: "package.json", ...(build ? { build } : {}), start: ["node", pkg.main] };
    }
  }

  const deno = Deno.execPath();
  for (const manifest of ["deno.json", "deno.jsonc"]) {
    const text = await readText(join(repo, manifest));
    if (text === undefined) continue;
    // A deno.jsonc with comments is read for its entry files only.
    let tasks: Record<string, unknown> = {};
    try {
      tasks = (JSON.parse(text).tasks ?? {}) as Record<string, unknown>;
    } catch { /* comments: no tasks read */ }
    if (tasks.start !== undefined) return { from: manifest, start: [deno, "task", "start"] };
  }
  for (const entry of ["main.ts", "server.ts"]) {
    if (
      await isFile(join(repo, entry)) &&
      (await isFile(join(repo, "deno.json")) || await isFile(join(repo, "deno.jsonc")))
    ) {
      return { from: entry, start: [deno, "run", "-A", entry] };
    }
  }
  for (const entry of ["app.py", "main.py", "server.py", "wsgi.py", "asgi.py"]) {
    const text = await readText(join(repo, entry));
    if (text !== undefined) return pythonService(entry, text);
  }
  throw new TroupeError(
    "invalid_spec",
    `found no web service to deploy in ${repo}: add a Procfile with a "web:" line, a package.json ` +
      `with a "start" script (or "main"), a deno.json with a "start" task, or an app.py; the ` +
      `service must listen on the port in $PORT`,
  );
}

/**
 * A Python entry that serves when run (`if __name__ == "__main__"`) is run; a module that only
 * makes an app (as hosts that start `gunicorn app:app` expect) is served: a Flask app by gunicorn
 * where it is installed, else by Flask's own server; a FastAPI app by uvicorn. Else it is run.
 */
function pythonService(entry: string, text: string): ServicePlan {
  const module = entry.replace(/\.py$/, "");
  const made = (maker: string) =>
    /__name__\s*==\s*["']__main__["']/.test(text)
      ? undefined
      : text.match(new RegExp(`^(\\w+)\\s*=\\s*(?:\\w+\\.)?${maker}\\(`, "m"))?.[1];
  const flask = made("Flask");
  if (flask) {
    const app = `${module}:${flask}`;
    return {
      from: `${entry} (Flask)`,
      start: [
        "sh",
        "-c",
        `if command -v gunicorn >/dev/null; then exec gunicorn --bind "127.0.0.1:$PORT" ${app}; fi\n` +
        `exec python3 -m flask --app ${app} run --host 127.0.0.1 --port "$PORT"`,
      ],
    };
  }
  const fastapi = made("FastAPI");
  if (fastapi) {
    return {
      from: `${entry} (FastAPI)`,
      start: [
        "sh",
        "-c",
        `exec python3 -m uvicorn ${module}:${fastapi} --host 127.0.0.1 --port "$PORT"`,
      ],
    };
  }
  return { from: entry, start: ["python3", entry] };
}
