import assert from "node:assert/strict";
import { parse } from "yaml";
import { scan } from "../../actors/agents/scanner.ts";
import { detect } from "../../actors/agents/detector.ts";
import { assess } from "../../actors/agents/assessor.ts";
import { writeDocs } from "../../actors/agents/docs.ts";
import { planRepairs } from "../../actors/agents/repair_planner.ts";
import { ciFiles } from "../../actors/agents/kit/ci_config.ts";
import { writeFiles } from "../cli_helpers.ts";

// deno-lint-ignore no-explicit-any -- parsed YAML, read by the paths each assertion names
type Doc = Record<string, any>;

/** What the team reads, finds, plans and generates for a repository made of `files`. */
async function team(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "troupe-eco-" });
  try {
    await writeFiles(dir, files);
    const scanned = await scan(dir);
    const detection = detect(scanned);
    const findings = await assess(scanned, detection);
    const plan = planRepairs(findings);
    const generated = ciFiles(detection);
    const docs = writeDocs(scanned, detection, plan, "2026-12-03");
    const ci = Object.fromEntries(
      generated.filter((f) => f.path.endsWith(".yml")).map((
        f,
      ) => [f.path, parse(f.content) as Doc]),
    );
    return { detection, findings, plan, generated, docs, ci };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const rules = (findings: { rule: string; path?: string }[]) =>
  findings.map((f) => f.path ? `${f.rule} ${f.path}` : f.rule);

Deno.test("CMake: one job from the root for folders it add_subdirectory's, configured with testing on", async () => {
  const { detection, ci } = await team({
    "CMakeLists.txt":
      'cmake_minimum_required(VERSION 3.16)\nproject(lib C)\nenable_testing()\nadd_subdirectory(tests)\n# add_subdirectory(old)\nadd_subdirectory("fuzzing")\n',
    "tests/CMakeLists.txt": "add_executable(t t.c)\nadd_test(NAME t COMMAND t)\n",
    "fuzzing/CMakeLists.txt": "add_executable(f f.c)\n",
    "tools/CMakeLists.txt": "project(tool C)\n",
  });
  assert.deepEqual(detection.projects.map((p) => [p.type, p.dir]), [["cmake", "."], [
    "cmake",
    "tools",
  ]]);
  const [root] = detection.projects;
  assert.match(root.build!, /-DBUILD_TESTING=ON/);
  assert.equal(root.test, "ctest --test-dir build --output-on-failure");
  // The GitLab job's image holds a compiler and installs cmake before calling it.
  const job = ci[".gitlab-ci.yml"].cmake;
  assert.match(job.image, /^gcc:/);
  assert.match(job.script[0], /apt-get install .*cmake/);
});

Deno.test("a Makefile's test target is chosen over a tests target that comes first in the file", async () => {
  const { detection } = await team({
    "CMakeLists.txt": "project(x C)\n",
    "Makefile": "tests:\n\t$(CC) -o t tests/t.c\n\ntest: tests\n\t./t\n",
  });
  assert.equal(detection.projects[0].test, "make test");
});

Deno.test("tox with factor-conditional commands runs the environment whose factor holds the tests", async () => {
  const { detection } = await team({
    "pyproject.toml": '[project]\nname = "p"\nversion = "1"\n',
    "tox.ini":
      "[tox]\nenvlist = py{39,312}-tests, lint\n\n[testenv]\ndeps = pytest\ncommands =\n    tests: pytest {posargs}\n    lint: ruff check .\n",
    "tests/test_p.py": "def test_p():\n    assert True\n",
  });
  assert.equal(detection.projects[0].test, "tox -e py-tests");
  const plain = await team({
    "pyproject.toml": '[project]\nname = "p"\nversion = "1"\n',
    "tox.ini": "[tox]\nenvlist = py312\n\n[testenv]\ndeps = pytest\ncommands = pytest\n",
    "tests/test_p.py": "def test_p():\n    assert True\n",
  });
  assert.equal(plain.detection.projects[0].test, "tox -e py");
});

Deno.test("Elixir, Ruby and PHP get jobs with their setup actions, the versions they ask for, and images that hold their tools", async () => {
  const { detection, ci, plan } = await team({
    "mix.exs":
      'defmodule Lib.MixProject do\n  def project, do: [app: :lib, elixir: "~> 1.15", package: [licenses: ["MIT"]]]\nend\n',
    "mix.lock": "%{}\n",
    ".tool-versions": "erlang 26.2.1\nelixir 1.16.2-otp-26\n",
    "test/lib_test.exs": "defmodule LibTest do\n  use ExUnit.Case\nend\n",
    "gem/Gemfile": 'source "https://rubygems.org"\ngemspec\ngem "rspec"\n',
    "gem/g.gemspec": 'Gem::Specification.new do |s|\n  s.required_ruby_version = ">= 3.1"\nend\n',
    "gem/spec/g_spec.rb": "describe 'g' do\nend\n",
    "php/composer.json": JSON.stringify({
      name: "a/b",
      require: { php: "^8.2" },
      scripts: { test: "phpunit" },
    }),
  });
  const byType = Object.fromEntries(detection.projects.map((p) => [p.type, p]));
  assert.equal(byType.elixir.test, "mix test");
  assert.equal(byType.elixir.runtimeVersion, "1.16.2/26.2.1");
  assert.equal(byType.ruby.test, "bundle exec rspec");
  // The gemspec's `>= 3.1` is a minimum: a current Ruby meets it.
  assert.equal(byType.ruby.runtimeVersion, "3.3");
  assert.equal(byType.php.test, "composer test");
  // No lock file: a library, installed by its users on each PHP release it allows.
  assert.deepEqual(byType.php.matrix, ["8.2", "8.3", "8.4", "8.5"]);

  const gh = ci[".github/workflows/ci.yml"].jobs;
  assert.deepEqual(gh.elixir.steps[1], {
    uses: "erlef/setup-beam@v1",
    with: { "elixir-version": "1.16.2", "otp-version": "26.2.1" },
  });
  assert.equal(gh["ruby-gem"].steps[1].uses, "ruby/setup-ruby@v1");
  assert.equal(gh["ruby-gem"].steps[1].with["ruby-version"], "3.3");
  assert.equal(gh["php-php"].steps[1].uses, "shivammathur/setup-php@v2");
  assert.equal(gh["php-php"].steps[1].with["php-version"], "${{ matrix.version }}");
  const gl = ci[".gitlab-ci.yml"];
  assert.match(gl.elixir.image, /^elixir:1\.16/);
  assert.match(gl["ruby-gem"].image, /^ruby:3\.3/);
  assert.match(gl["php-php"].image, /^composer:/);
  assert.ok(plan.some((s) => s.rule === "no-ci" && s.automated));
});

Deno.test("where troupe reads no project, the plan says CI must be written by hand and nothing claims it was added", async () => {
  const { plan, generated, docs } = await team({ "main.zig": "pub fn main() void {}\n" });
  assert.equal(generated.length, 0);
  const ci = plan.find((s) => s.rule === "no-ci")!;
  assert.equal(ci.automated, false);
  assert.match(ci.action, /by hand/);
  const changelog = docs.find((f) => f.path === "CHANGELOG.md");
  assert.ok(!changelog || !/add CI/.test(changelog.content), changelog?.content);
});

Deno.test("Gradle's JDK is the compile target, not a JDK one task asks for (javadoc)", async () => {
  const { detection } = await team({
    "settings.gradle.kts": 'rootProject.name = "lib"\n',
    "build.gradle.kts": `plugins { \`java-library\` }
tasks.javadoc { javadocTool = javaToolchains.javadocToolFor { languageVersion = JavaLanguageVersion.of(24) } }
java { sourceCompatibility = JavaVersion.VERSION_17; targetCompatibility = JavaVersion.VERSION_17 }
`,
  });
  assert.equal(detection.projects[0].runtimeVersion, "17");
});

Deno.test("a bun package's test script is run as its script, and a Dockerfile is offered only for an application", async () => {
  const lib = await team({
    "package.json": JSON.stringify({ name: "l", scripts: { test: "vitest run" } }),
    "bun.lock": "{}\n",
  });
  assert.equal(lib.detection.projects[0].test, "bun run test");
  assert.equal(lib.ci[".gitlab-ci.yml"].node.image, "oven/bun:1");
  assert.ok(!lib.generated.some((f) => f.path === "Dockerfile"));
  const app = await team({
    "package.json": JSON.stringify({
      name: "a",
      engines: { node: ">=22" },
      packageManager: "pnpm@10.4.1",
      scripts: { start: "node server.js", test: "node --test" },
    }),
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
  });
  const docker = app.generated.find((f) => f.path === "Dockerfile")!.content;
  assert.match(docker, /^FROM node:22-slim/);
  assert.match(docker, /corepack enable && pnpm install/);
  assert.match(docker, /CMD \["pnpm","start"\]/);
});

Deno.test("licences in every usual form count; a library is not asked for a lock file", async () => {
  const crate = {
    "Cargo.toml": '[package]\nname = "c"\nversion = "0.1.0"\nrust-version = "1.70"\n',
    "src/lib.rs": "pub fn f() {}\n",
    "README.md": "# c\n\n## Development\n",
    ".gitignore": "target\n",
  };
  const licences: Record<string, string>[] = [
    { "LICENSE-MIT": "MIT", "LICENSE-APACHE": "Apache" },
    { "LICENSE.md": "MIT" },
    { "COPYING.txt": "GPL" },
    { "UNLICENSE": "public domain" },
    { "LICENSES/MIT.txt": "MIT" },
  ];
  for (const extra of licences) {
    const { findings } = await team({ ...crate, ...extra });
    assert.deepEqual(rules(findings), ["no-ci"], JSON.stringify(extra));
  }
  const byManifest = await team({
    ...crate,
    "Cargo.toml": '[package]\nname = "c"\nversion = "0.1.0"\nlicense = "MIT OR Apache-2.0"\n',
  });
  assert.ok(!rules(byManifest.findings).includes("no-license"));
  // A binary crate is an application: its lock file makes its builds reproducible.
  const app = await team({ ...crate, "src/main.rs": "fn main() {}\n", "LICENSE": "MIT" });
  assert.ok(rules(app.findings).includes("missing-lockfile Cargo.toml"));
});

Deno.test("secrets: prefixed names are caught, unquoted ones in YAML too; an .env file is judged by what it holds", async () => {
  const { findings } = await team({
    "package.json": JSON.stringify({ name: "a", scripts: { test: "node --test" } }),
    ".github/workflows/scan.yml":
      "env:\n  SONAR_TOKEN: 3f9a8c7d6e5b4a39281706f5e4d3c2b1a0918273\n  NODE_ENV: production\n  OTHER_TOKEN: ${{ secrets.OTHER_TOKEN }}\n",
    "src/db.js": 'const DB_PASSWORD = "hunter2-prod-9";\nconst password = config.dbPassword;\n',
    "examples/.env": "PORT=3000\nLOG_LEVEL=debug\n",
    ".env.local": "STRIPE_API_KEY=rk_live_51Hx9Qa2Zb7Kc4Lm8Np\n",
    "deploy/.env": "DATABASE_URL=postgres://app:Zq8v2Lm4Pw@db/app\n",
  });
  const found = findings.filter((f) => f.rule.startsWith("secret")).map((f) =>
    `${f.rule} ${f.path}${f.line ? `:${f.line}` : ""}`
  ).sort();
  assert.deepEqual(found, [
    "secret .env.local:1",
    "secret .github/workflows/scan.yml:2",
    "secret src/db.js:1",
    "secret-file .env.local",
    "secret-file deploy/.env",
  ]);
});

Deno.test("README.rst and README.adoc are READMEs, written to in their own markup; the CI badge is a full URL only when the remote is known", async () => {
  const base = { "go.mod": "module example.com/m\n\ngo 1.22\n", "m_test.go": "package m\n" };
  const rst = await team({ ...base, "README.rst": "m\n=\n\nA module.\n" });
  const readme = rst.docs.find((f) => f.path.startsWith("README"))!;
  assert.equal(readme.path, "README.rst");
  assert.equal(readme.mode, "append");
  assert.match(readme.content, /Development\n-----------\n/);
  assert.match(readme.content, /\.\. code-block:: sh\n\n {3}\(cd \. && go test \.\/\.\.\.\)/);
  assert.doesNotMatch(readme.content, /badge/);

  const adoc = await team({
    ...base,
    "README.adoc": "= m\n\n== Installation\n\ngo get it\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/config": '[remote "origin"]\n\turl = git@github.com:acme/m.git\n',
  });
  assert.ok(!adoc.docs.some((f) => f.path.startsWith("README")), "it has a set-up section");
  const fresh = await team({
    ...base,
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/m.git\n',
  });
  const created = fresh.docs.find((f) => f.path === "README.md")!;
  assert.match(
    created.content,
    /!\[CI\]\(https:\/\/github\.com\/acme\/m\/actions\/workflows\/ci\.yml\/badge\.svg\)/,
  );
});

Deno.test("the CHANGELOG entry goes under its Unreleased section, else in a new one above the newest release", async () => {
  const base = { "go.mod": "module example.com/m\n\ngo 1.22\n", "m_test.go": "package m\n" };
  const withUnreleased = await team({
    ...base,
    "CHANGELOG.md":
      "# Changelog\n\n## [Unreleased]\n\n- a change\n\n## [1.0.0] - 2026-01-01\n\n- first\n\n[1.0.0]: https://example.com/1.0.0\n",
  });
  const a = withUnreleased.docs.find((f) => f.path === "CHANGELOG.md")!;
  assert.equal(a.mode, "replace");
  assert.equal(a.content.match(/Unreleased/g)?.length, 1);
  assert.match(a.content, /## \[Unreleased\]\n\n- a change\n- add CI for GitHub Actions/);
  assert.match(a.content, /\[1\.0\.0\]: https:\/\/example\.com\/1\.0\.0\n$/);

  const released = await team({
    ...base,
    "CHANGELOG.md":
      "# Changelog\n\nAll notable changes.\n\n## 1.1.0\n\n- two\n\n## 1.0.0\n\n- one\n",
  });
  const b = released.docs.find((f) => f.path === "CHANGELOG.md")!;
  assert.match(
    b.content,
    /All notable changes\.\n\n## \[Unreleased\] \(2026-12-03\)\n\n- add CI[^\n]*\n(- [^\n]*\n)*\n## 1\.1\.0/,
  );
});

Deno.test("a published npm package is a library: no lock file asked; an application is asked for one", async () => {
  const lib = await team({
    "package.json": JSON.stringify({
      name: "ky",
      exports: "./index.js",
      files: ["index.js"],
      scripts: { test: "node --test" },
    }),
    ".gitignore": "node_modules\n",
  });
  assert.ok(!rules(lib.findings).some((r) => r.startsWith("missing-lockfile")));
  const app = await team({
    "package.json": JSON.stringify({
      name: "app",
      private: true,
      scripts: { start: "node .", test: "node --test" },
    }),
    ".gitignore": "node_modules\n",
  });
  assert.ok(rules(app.findings).includes("missing-lockfile package.json"));
});

const pem = "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(2) + "\n" +
  "-----END PRIVATE KEY-----\n";

Deno.test("a generic password in a test or a doc comment is an example, not a finding; a known key format is one anywhere, a private key in test data a medium one", async () => {
  const { findings } = await team({
    "package.json": JSON.stringify({ name: "a", scripts: { test: "node --test" } }),
    "src/auth.test.ts": "const password = 'ahotproject'\n",
    "src/auth.ts": " *     password: 'ahotproject',\nexport const x = 1;\n",
    "test/keys.js": 'const k = "AKIAIOSFODNN7EXAMPLF";\n',
    // A TLS test server's key beside the tests, and the same key where a service would read it.
    "http/testdata/tls/localhost.key": pem,
    "deploy/server.key": pem,
  });
  assert.deepEqual(
    findings.filter((f) => f.rule === "secret").map((f) => `${f.severity} ${f.path}: ${f.message}`)
      .sort(),
    [
      "critical deploy/server.key: private key committed to the repository",
      "critical test/keys.js: AWS access key id committed to the repository",
      "medium http/testdata/tls/localhost.key: private key committed in test data: if it is a " +
      "test fixture, it is public now; trust it nowhere outside the tests",
    ],
  );
});
