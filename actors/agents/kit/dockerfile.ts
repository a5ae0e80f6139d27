import type { Project } from "../../tasks/repo_facts.ts";

/**
 * A Dockerfile for an application (a project that says how it starts), in an image that holds
 * its package manager and the runtime version it asks for; none for libraries and monorepos.
 */
export function dockerfile(p: Project): string | undefined {
  if (!p.start || p.members?.length) return undefined;
  const install = p.install ?? "true";
  const build = p.build ? ` && ${p.build}` : "";
  switch (p.type) {
    case "node":
    case "typescript": {
      const pm = p.packageManager ?? "npm";
      if (pm === "bun") {
        return `FROM oven/bun:1\nWORKDIR /app\nCOPY . .\nRUN ${install}${build}\nUSER bun\n` +
          `CMD ${JSON.stringify(p.start.split(" "))}\n`;
      }
      const major = p.runtimeVersion?.match(/\d+/)?.[0] ?? "22";
      // pnpm and yarn come through corepack, which the node image carries.
      const corepack = pm === "pnpm" || pm === "yarn" ? "corepack enable && " : "";
      return `FROM node:${major}-slim\nWORKDIR /app\nCOPY . .\nRUN ${corepack}${install}${build}\n` +
        `USER node\nCMD ${JSON.stringify(p.start.split(" "))}\n`;
    }
    case "go": {
      const version = p.runtimeVersion?.split(".").slice(0, 2).join(".") ?? "1";
      return `FROM golang:${version} AS build\nWORKDIR /src\nCOPY . .\n` +
        `RUN CGO_ENABLED=0 go build -o /out/app .\n\nFROM gcr.io/distroless/static\n` +
        `COPY --from=build /out/app /app\nUSER nonroot\nENTRYPOINT ["/app"]\n`;
    }
    default:
      return undefined;
  }
}
