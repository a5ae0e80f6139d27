import assert from "node:assert/strict";
import { join } from "node:path";
import { detectService } from "../../actors/deploy/service_plan.ts";
import { runsHere, writeFiles } from "../cli_helpers.ts";
import { DeployBench, freePort } from "./deploy_helpers.ts";

/** A module that only makes a Flask app, as render-examples/flask-hello-world has it. */
const FLASK_APP = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\n" +
  "def hello_world():\n    return 'Hello, World!'\n";

Deno.test("deploy finds how a service starts: a Procfile's web line, a start script, a Python module that runs itself, a Flask or FastAPI app", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-service-plan-" });
  try {
    const plan = async (files: Record<string, string>) => {
      const repo = await Deno.makeTempDir({ dir });
      await writeFiles(repo, files);
      return await detectService(repo);
    };
    assert.deepEqual(
      await plan({ Procfile: "worker: x\nweb: gunicorn app:app\n", "app.py": FLASK_APP }),
      { from: "Procfile", start: ["sh", "-c", "gunicorn app:app"] },
    );
    assert.deepEqual(
      await plan({ "package.json": '{"scripts":{"start":"node s.js","build":"tsc"}}' }),
      { from: "package.json", build: ["npm", "run", "build"], start: ["npm", "start"] },
    );
    const runsItself = FLASK_APP + "\nif __name__ == '__main__':\n    app.run()\n";
    assert.deepEqual(await plan({ "app.py": runsItself }), {
      from: "app.py",
      start: ["python3", "app.py"],
    });
    const flask = await plan({ "app.py": FLASK_APP });
    assert.equal(flask.from, "app.py (Flask)");
    assert.match(flask.start[2], /gunicorn --bind "127\.0\.0\.1:\$PORT" app:app/);
    assert.match(flask.start[2], /python3 -m flask --app app:app run --host 127\.0\.0\.1/);
    const fastapi = await plan({
      "main.py": "import fastapi\n\nservice = fastapi.FastAPI()\n",
    });
    assert.equal(fastapi.from, "main.py (FastAPI)");
    assert.match(fastapi.start[2], /uvicorn main:service --host 127\.0\.0\.1 --port "\$PORT"/);
    await assert.rejects(plan({ "README.md": "# nothing to run\n" }), /found no web service/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy: a Flask module that only makes its app goes live behind nginx", async () => {
  if (!await runsHere("python3", "-c", "import flask")) {
    console.log("could not check: Flask is not installed (apt-get install python3-flask)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "troupe-deploy-flask-" });
  const bench = new DeployBench(dir, freePort());
  try {
    const app = join(dir, "app");
    await writeFiles(app, { "app.py": FLASK_APP, "requirements.txt": "Flask\n" });
    const r = await bench.deploy([
      "--repo",
      app,
      "--port",
      String(bench.port),
      "--autonomy",
      "4",
      "--watch-ms",
      "1000",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, "live", r.stdout);
    assert.equal(await bench.served(), "Hello, World!");
  } finally {
    await bench.deploy(["--stop"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
