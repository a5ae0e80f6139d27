import { parseAllDocuments, stringify } from "yaml";
import { Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";

/**
 * What a user commits to deploy to a hosted target, generated and checked, never deployed from
 * here: Kubernetes manifests (a Deployment rolled out one pod at a time, with readiness and
 * liveness probes on the health path, and its Service), and a GitHub Actions workflow that builds
 * the image, applies them in an `environment` (whose protection rules make it wait for approval)
 * and undoes the rollout if it does not become ready.
 */
export interface HostedOptions {
  /** The service's name: a DNS-1123 label (lowercase letters, digits, -). */
  name: string;
  /** The environment the workflow's deploy job runs in (its approvals are GitHub's). */
  env: string;
  health: string;
  /** The port the container listens on ($PORT is set to it). */
  port: number;
}

/** A name Kubernetes accepts (DNS-1123 label) made from a folder's name. */
export function serviceName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return (name || "app").slice(0, 63).replace(/-+$/, "");
}

/** The manifests, one YAML file of two documents. */
export function kubernetesManifests(o: HostedOptions): string {
  const labels = { app: o.name };
  const probe = (initialDelaySeconds: number) => ({
    httpGet: { path: o.health, port: "http" },
    initialDelaySeconds,
    periodSeconds: 5,
    failureThreshold: 3,
  });
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: o.name, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      // A new pod must be ready before an old one goes: no capacity is lost mid-rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: 120,
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: o.name,
            image: `${o.name}:latest`,
            ports: [{ name: "http", containerPort: o.port }],
            env: [{ name: "PORT", value: String(o.port) }],
            readinessProbe: probe(2),
            livenessProbe: probe(10),
          }],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: o.name, labels },
    spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
  // Written out in full: no YAML anchors for the labels the objects share.
  const yaml = (v: unknown) => stringify(v, { aliasDuplicateObjects: false });
  return `${yaml(deployment)}---\n${yaml(service)}`;
}

/**
 * Checks manifests against Kubernetes' own JSON schema (kubernetes-models' validators, generated
 * from the API's OpenAPI definitions). Returns what is wrong, document by document.
 */
export function validateManifests(text: string): string[] {
  const problems: string[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length > 0) return problems.push(`${where}: ${doc.errors[0].message}`);
    const value = doc.toJSON() as { kind?: string };
    const Model = value?.kind === "Deployment"
      ? Deployment
      : value?.kind === "Service"
      ? Service
      : undefined;
    if (!Model) return problems.push(`${where}: kind ${value?.kind} is not checked here`);
    try {
      // deno-lint-ignore no-explicit-any -- the model checks what it is given
      new Model(value as any).validate();
    } catch (err) {
      problems.push(`${where} (${value.kind}): ${(err as Error).message}`);
    }
  });
  return problems;
}

/** The workflow, in the shape GitHub reads (see `validateWorkflow`). */
export function githubDeployWorkflow(o: HostedOptions): string {
  const image = "ghcr.io/${{ github.repository }}:${{ github.sha }}";
  const workflow = {
    name: `Deploy ${o.name}`,
    on: { push: { branches: ["main"] }, workflow_dispatch: {} },
    permissions: { contents: "read", packages: "write" },
    concurrency: { group: `deploy-${o.env}`, "cancel-in-progress": false },
    jobs: {
      image: {
        "runs-on": "ubuntu-latest",
        steps: [
          { uses: "actions/checkout@v4" },
          {
            uses: "docker/login-action@v3",
            with: {
              registry: "ghcr.io",
              username: "${{ github.actor }}",
              password: "${{ secrets.GITHUB_TOKEN }}",
            },
          },
          { uses: "docker/build-push-action@v6", with: { push: true, tags: image } },
        ],
      },
      deploy: {
        needs: "image",
        "runs-on": "ubuntu-latest",
        // The environment's protection rules (required reviewers) make this job wait for them.
        environment: { name: o.env },
        steps: [
          { uses: "actions/checkout@v4" },
          { uses: "azure/setup-kubectl@v4" },
          {
            name: "Configure kubectl",
            run: 'mkdir -p ~/.kube && echo "$KUBE_CONFIG" | base64 -d > ~/.kube/config',
            env: { KUBE_CONFIG: "${{ secrets.KUBE_CONFIG }}" },
          },
          { name: "Apply", run: `kubectl apply -f k8s/${o.name}.yaml` },
          { name: "Roll out", run: `kubectl set image deployment/${o.name} ${o.name}=${image}` },
          {
            name: "Wait until ready",
            run: `kubectl rollout status deployment/${o.name} --timeout=180s`,
          },
          {
            name: "Roll back",
            if: "failure()",
            run: `kubectl rollout undo deployment/${o.name}`,
          },
        ],
      },
    },
  };
  return stringify(workflow, { lineWidth: 0 }); // no folded lines inside `${{ }}`
}

/** A schema error as action-validator reports it: leaves under `states` say what failed. */
interface SchemaError {
  path?: string;
  title?: string;
  detail?: string;
  states?: { errors: SchemaError[] }[];
}
/** The innermost errors of one, each with its path ("/jobs/deploy/runs-on: required"). */
function leaves(e: SchemaError): string[] {
  const inner = (e.states ?? []).flatMap((s) => s.errors.flatMap(leaves));
  return inner.length > 0 ? inner : [`${e.path || "/"}: ${e.detail ?? e.title ?? "invalid"}`];
}

/**
 * Checks a GitHub Actions workflow against SchemaStore's workflow schema, which GitHub's editor
 * tooling uses, and that every `needs` names a job of it (action-validator, in WebAssembly).
 * Returns what is wrong; for a choice between shapes, what each failed on.
 */
export async function validateWorkflow(text: string): Promise<string[]> {
  const { validateWorkflow: check } = await import("@action-validator/core");
  const { errors } = check(text) as { errors: SchemaError[] };
  return [...new Set(errors.flatMap(leaves))];
}
