import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import type { Detector } from "./detector_type.ts";
import { exists, inDir } from "./paths.ts";

/**
 * The Java version a build asks for. Its compile target first: Maven's `maven.compiler.release`,
 * `<release>`, `maven.compiler.source` or Spring's `java.version`; Gradle's `options.release`,
 * `targetCompatibility` or `sourceCompatibility` (`JavaVersion.VERSION_17`). Else a Gradle
 * toolchain (`jvmToolchain(N)`, `JavaLanguageVersion.of(N)`), which may also name a JDK for
 * one task only (javadoc). `1.8` is Java 8.
 */
function javaVersion(text: string, from: string): Partial<Project> {
  const level = text.match(/<maven\.compiler\.release>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/<release>\s*([\d.]+)\s*<\/release>/)?.[1] ??
    text.match(/<maven\.compiler\.source>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/<java\.version>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/release\.set\(\s*(\d+)\s*\)/)?.[1] ??
    text.match(/\brelease\s*=\s*(\d+)\b/)?.[1] ??
    text.match(/targetCompatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?([\d._]+)/)?.[1] ??
    text.match(/sourceCompatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?([\d._]+)/)?.[1];
  const toolchain = level ? undefined : text.match(/jvmToolchain\(\s*(\d+)\s*\)/)?.[1] ??
    text.match(/JavaLanguageVersion\.of\(\s*(\d+)\s*\)/)?.[1];
  const found = level ?? toolchain;
  if (!found) return {};
  const target = Number(found.replace("_", ".").replace(/^1\.(\d+)$/, "$1"));
  // A Gradle toolchain needs that very JDK; a release or source level is a target, which a newer
  // JDK compiles for (`--release` needs 9 or later): at least 17, an LTS that still targets 8.
  const version = String(toolchain ? target : Math.max(target, 17));
  return {
    runtimeVersion: version,
    runtimeVersionFrom: toolchain || target >= 17 ? from : `${from} (targets Java ${target})`,
  };
}

function gradle(dir: string, scan: ScanResult, manifest: string): Project {
  const gradlew = exists(scan, inDir(dir, "gradlew")) ? "./gradlew" : "gradle";
  const text = ["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"]
    .map((n) => scan.keyFiles[inDir(dir, n)] ?? "").join("\n");
  return {
    type: "java-gradle",
    dir,
    manifest,
    build: `${gradlew} build -x test`,
    test: `${gradlew} test`,
    testFramework: "junit",
    ...javaVersion(text, "the Gradle build"),
  };
}

/** Maven and Gradle builds. */
export const javaManifests: Record<string, Detector> = {
  "pom.xml": (dir, scan, manifest) => {
    // The project's own wrapper pins its Maven version.
    const mvn = exists(scan, inDir(dir, "mvnw")) ? "./mvnw" : "mvn";
    const pom = scan.keyFiles[manifest] ?? "";
    // A parent's modules are built and tested by its one job (the reactor).
    const modules = [...pom.matchAll(/<module>\s*([^<]+?)\s*<\/module>/g)].map((m) =>
      inDir(dir, m[1].replace(/\/$/, ""))
    );
    return {
      type: "java-maven",
      dir,
      manifest,
      build: `${mvn} -B package -DskipTests`,
      test: `${mvn} -B test`,
      testFramework: "junit",
      ...javaVersion(pom, "pom.xml"),
      ...(modules.length ? { members: modules } : {}),
    };
  },
  "build.gradle": gradle,
  "build.gradle.kts": gradle,
  "settings.gradle": gradle,
  "settings.gradle.kts": gradle,
};
