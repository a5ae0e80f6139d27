import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import {
  githubDeployWorkflow,
  kubernetesManifests,
  validateManifests,
  validateWorkflow,
} from "../../actors/deploy/hosted_targets.ts";
import { cli } from "../cli_helpers.ts";
import { writeService } from "./deploy_helpers.ts";

const options = { name: "shop", env: "production", health: "/healthz", port: 8080 };

Deno.test("hosted targets: the Kubernetes manifests pass Kubernetes' schema, with probes on the health path and a rollout that keeps capacity; a broken one is caught", () => {
  const text = kubernetesManifests(options);
  assert.deepEqual(validateManifests(text), []);
  const [deployment, service] = parseAllDocuments(text).map((d) => d.toJSON());
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(container.readinessProbe.httpGet.path, "/healthz");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  assert.equal(service.spec.selector.app, "shop");

  // What a hand edit could break: a replica count as text, a probe with no handler.
  deployment.spec.replicas = "two";
  delete container.readinessProbe.httpGet.port;
  const problems = validateManifests(`${stringify(deployment)}---\n${stringify(service)}`);
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0], /document 1 \(Deployment\):.*replicas must be integer/);
  assert.match(problems[0], /port/);
});

Deno.test("hosted targets: the GitHub Actions workflow deploys in an environment that waits for approval and undoes a failed rollout", async () => {
  const text = githubDeployWorkflow(options);
  assert.deepEqual(await validateWorkflow(text), []);
  const workflow = parse(text);
  const deploy = workflow.jobs.deploy;
  assert.deepEqual(deploy.environment, { name: "production" });
  assert.equal(deploy.needs, "image");
  const rollback = deploy.steps.find((s: { if?: string }) => s.if === "failure()");
  assert.match(rollback.run, /kubectl rollout undo deployment\/shop/);
  // The workflow schema catches what GitHub would refuse.
  const issues = async (w: unknown) => (await validateWorkflow(stringify(w))).join("; ");
  const noRunner = structuredClone(workflow);
  delete noRunner.jobs.image["runs-on"];
  assert.match(await issues(noRunner), /\/jobs\/image\/runs-on: This property is required/);
  const badNeed = structuredClone(workflow);
  badNeed.jobs.deploy.needs = "build";
  assert.match(await issues(badNeed), /\/jobs\/deploy\/needs: unresolved job build/);
  const badStep = structuredClone(workflow);
  badStep.jobs.deploy.steps.push({ name: "nothing to do" });
  assert.match(
    await issues(badStep),
    /\/jobs\/deploy\/steps\/7\/(uses|run): This property is required/,
  );
});

Deno.test("deploy --emit writes the checked files a user commits, and deploys nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-emit-" });
  try {
    const app = await writeService(join(dir, "My App"), { version: "v1" });
    const out = join(dir, "out");
    const r = await cli(["deploy", "--repo", app, "--emit", out, "--env", "production", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const written = JSON.parse(r.stdout);
    assert.equal(written.name, "my-app");
    assert.deepEqual(written.files, [
      join(out, "k8s", "my-app.yaml"),
      join(out, ".github/workflows/deploy.yml"),
    ]);
    assert.deepEqual(validateManifests(await Deno.readTextFile(written.files[0])), []);
    const wf = parse(await Deno.readTextFile(written.files[1]));
    assert.equal(wf.jobs.deploy.environment.name, "production");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy: a state file damaged by hand is named, with what is wrong and what to do", async () => {
  const root = await Deno.makeTempDir({ prefix: "troupe-state-" });
  try {
    const file = join(root, "staging", "state.json");
    await Deno.mkdir(join(root, "staging"));
    for (const [text, why] of [["{ not json", /JSON/], ['{"env":"staging"}', /host/]] as const) {
      await Deno.writeTextFile(file, text);
      const r = await cli(["deploy", "--status", "--env", "staging", "--root", root]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        new RegExp(`${file.replace(/[.\\/]/g, "\\$&")} is not a deploy state`),
      );
      assert.match(r.stderr, why);
      assert.match(r.stderr, /move it aside to start staging afresh/);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
