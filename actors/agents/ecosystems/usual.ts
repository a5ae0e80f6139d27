import { knownCommands } from "../kit/other_ci.ts";
import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import type { Detector } from "./detector_type.ts";

/** Ruby, PHP and C/C++ commands are the usual ones unless the maintainers wrote theirs down. */
function withKnown(scan: ScanResult, p: Project): Project {
  const known = knownCommands(scan, p.dir);
  return known
    ? {
      ...p,
      ...(known.install ? { install: known.install } : {}),
      test: known.test,
      testFrom: known.from,
    }
    : p;
}

/** Ruby, PHP and CMake projects. */
export const usualManifests: Record<string, Detector> = {
  "Gemfile": (dir, scan, manifest) =>
    withKnown(scan, {
      type: "ruby",
      dir,
      manifest,
      install: "bundle install",
      test: "bundle exec rake test",
    }),
  "composer.json": (dir, scan, manifest) =>
    withKnown(scan, {
      type: "php",
      dir,
      manifest,
      install: "composer install",
      test: "vendor/bin/phpunit",
    }),
  "CMakeLists.txt": (dir, scan, manifest) =>
    withKnown(scan, {
      type: "cmake",
      dir,
      manifest,
      build: "cmake -S . -B build && cmake --build build",
      test: "ctest --test-dir build",
    }),
};
