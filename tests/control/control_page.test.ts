import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { ControlServer } from "../../control/mod.ts";
import { newKey } from "../../policies/mod.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { LlmConfig } from "../../actors/mod.ts";
import { fixtureRepo, serverFolders } from "../control_helpers.ts";

/** Debian's Chromium, which .ci/run installs; playwright-core drives it and downloads nothing. */
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The control center in Chromium, opened at the address the server prints (its own token after
 * "#"); `fn` drives it, and no page error may have happened by its end.
 */
async function onPage(server: ControlServer, height: number, fn: (page: Page) => Promise<void>) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height } });
    // A run's first agents load (and type-check) their worker modules: on a busy machine that
    // takes longer than Playwright's 30 s default. Bounded still, and no wait is a timing claim.
    page.setDefaultTimeout(180_000);
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    await page.goto(`${server.url}/page/index.html#token=${server.token}`);
    await fn(page);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
}

/** A full-page screenshot that is a PNG and not blank; copied to `$keep` when that is set. */
async function screenshot(page: Page, dir: string, keep: string): Promise<void> {
  const shot = join(dir, "page.png");
  await page.screenshot({ path: shot, fullPage: true });
  const png = await Deno.readFile(shot);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  // A blank page compresses to a few kB; this one holds tables of text.
  assert.ok(png.length > 40_000, `screenshot of ${png.length} bytes looks blank`);
  if (Deno.env.get(keep)) await Deno.copyFile(shot, Deno.env.get(keep)!);
}

Deno.test("the control center in Chromium: a run submitted on the page shows its tasks live, and an approval signed on the page unblocks it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-page-" });
  try {
    const repo = await fixtureRepo(tmp);
    const folders = serverFolders(tmp);
    const { keyFile } = await newKey(folders.keys, "alice", "approver");
    await using server = await ControlServer.start({ ...folders, runs: { repos: [tmp] } });
    await onPage(server, 1000, async (page) => {
      await page.waitForSelector("#status.live");

      // Autonomy 1: every write into the repository needs one approver's signature.
      await page.fill("input[name=repo]", repo);
      await page.selectOption("select[name=autonomy]", "1");
      await page.check("input[name=apply]");
      await page.click("button[type=submit]");
      await page.waitForSelector("output:has-text('started run-')");
      const runId = (await page.textContent("output"))!.replace("started ", "");

      // Task states arrive live: a task is seen running before it is seen done.
      await page.waitForSelector(
        '[data-testid="task-scan"][data-state="running"], ' +
          '[data-testid="task-scan"][data-state="succeeded"]',
      );
      await page.waitForSelector('[data-testid="task-review"][data-state="succeeded"]');
      const states = await page.$$eval(
        "[data-task]",
        (rows) => rows.map((r) => `${r.getAttribute("data-task")}=${r.children[1].textContent}`),
      );
      assert.deepEqual(states, [
        "scan=succeeded",
        "detect=succeeded",
        "assess=succeeded",
        "plan_repairs=succeeded",
        "generate_ci=succeeded",
        "write_docs=succeeded",
        "review=succeeded",
      ]);

      // The writes wait for a signature; the run is not finished until one comes.
      const pending = await page.waitForSelector('[data-approval] [data-state="pending"]');
      const approvalId = (await pending.getAttribute("data-testid"))!.replace("approval-", "");
      assert.equal(await page.textContent(`[data-testid="run-status-${runId}"]`), "running");
      await assert.rejects(Deno.stat(join(repo, ".gitlab-ci.yml")));

      await page.setInputFiles("#key", keyFile);
      await page.click(`[data-testid="approve-${approvalId}"]`);
      await page.waitForSelector(`[data-testid="run-status-${runId}"][data-state="finished"]`);
      await page.waitForSelector(`[data-testid="approval-${approvalId}"][data-state="granted"]`);
      await Deno.stat(join(repo, ".gitlab-ci.yml"));
      await Deno.stat(join(repo, ".github/workflows/ci.yml"));
      await screenshot(page, tmp, "TROUPE_KEEP_PAGE");
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the control center draws a run as a picture (its task graph laid out, its timeline), forks it from a task and shows two runs side by side", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-page-picture-" });
  try {
    const repo = await fixtureRepo(tmp);
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: { repos: [tmp], outRoot: join(tmp, "out") },
    });
    const auth = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
    const submitted = await fetch(`${server.url}/runs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ repo }),
    });
    const { runId } = await submitted.json();
    await server.runs.settled(runId);
    await onPage(server, 1400, async (page) => {
      await page.click(`[data-run="${runId}"]`);
      await page.waitForSelector('#graph [data-testid="node-review"][data-state="succeeded"]');
      // Laid out left to right by dependency: what a task depends on is drawn to its left.
      const x = (id: string) =>
        page.$eval(`#graph [data-testid="node-${id}"] rect`, (r) => Number(r.getAttribute("x")));
      assert.ok(await x("scan") < await x("detect"));
      assert.ok(await x("generate_ci") < await x("review"));
      assert.equal(await page.$$eval("#graph [data-testid^=node-]", (n) => n.length), 7);
      assert.ok(await page.$$eval("#graph .edge", (e) => e.length) >= 7);
      assert.equal(await page.$$eval("#timeline rect.task", (b) => b.length), 7);

      await page.click('[data-testid="fork-generate_ci"]');
      await page.waitForSelector("output:has-text('forked run-')");
      const forkId = (await page.textContent("output"))!.replace("forked ", "");
      await server.runs.settled(forkId);
      await page.waitForSelector(`[data-testid="run-status-${forkId}"][data-state="finished"]`);
      // The fork is shown: the tasks it reused from its parent are done in its picture too.
      await page.waitForSelector(`#run-title:has-text("${forkId}: finished")`);
      await page.waitForSelector('#graph [data-testid="node-scan"][data-state="succeeded"]');
      assert.equal(await page.textContent('[data-testid="task-scan"]'), "succeeded");
      await page.selectOption("#compare", runId);
      await page.waitForSelector('[data-testid="diff-scan"][data-state="same"]');
      // Every task of the two runs is lined up; the fork's reused tasks are the same.
      assert.equal(await page.$$eval("#diff [data-testid^=diff-]", (r) => r.length), 7);
      await screenshot(page, tmp, "TROUPE_KEEP_SHOT");
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the control center charts tokens and spend over time per model, and the SQL console draws its result's numeric column", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-page-charts-" });
  try {
    const repo = await fixtureRepo(tmp);
    const plan = {
      tasks: [
        { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
        { id: "review", kind: "review", dependsOn: ["scan", "assess"] },
      ],
    };
    await using fake = await fakeOpenAI([
      { kind: "answer", text: JSON.stringify(plan), usage: { input: 1200, output: 300 } },
    ]);
    Deno.env.set("TROUPE_PAGE_KEY", "sk-page-test-0123456789");
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: {
        repos: [tmp],
        outRoot: join(tmp, "out"),
        llm: LlmConfig.parse({
          providers: [{
            name: "fake",
            kind: "openai",
            baseUrl: fake.url,
            apiKeyEnv: "TROUPE_PAGE_KEY",
            models: ["planner-1"],
            maxRetries: 0,
          }],
          prices: { "planner-1": { input: 3, output: 15 } },
        }),
      },
    });
    const auth = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
    for (let i = 0; i < 2; i++) {
      const submitted = await fetch(`${server.url}/runs`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ repo, llm: true }),
      });
      const { runId } = await submitted.json();
      await server.runs.settled(runId);
    }
    assert.ok(fake.requests.length >= 2, "each run asked the model");
    await onPage(server, 1400, async (page) => {
      await page.click("#runs tbody tr");
      await page.waitForSelector('#graph [data-testid="node-review"][data-state="succeeded"]');
      // A running total per model: one line, its last point the two runs' tokens.
      const line = '#tokens-chart [data-testid="series-planner-1"]';
      await page.waitForSelector(line);
      const points = await page.$eval(line, (l) => l.getAttribute("points")!.split(" ").length);
      assert.equal(points, fake.requests.length);
      await page.waitForSelector('#cost-chart [data-testid="series-planner-1"]');
      assert.match(await page.textContent("#tokens-chart") ?? "", /planner-1: [\d,]+/);

      // The console: the default query counts events by type; its bars are that column.
      await page.click("#sql button[type=submit]");
      await page.waitForSelector("#sql-status:has-text('chart of events')");
      const rows = await page.$$eval("#sql-result tbody tr", (r) => r.length);
      assert.ok(rows > 5);
      assert.equal(await page.$$eval('#sql-chart [data-testid="sql-bar"]', (b) => b.length), rows);
      // A bad query says why, and the page goes on.
      await page.fill("#sql textarea", "SELECT nope FROM events");
      await page.click("#sql button[type=submit]");
      await page.waitForSelector("#sql-status:has-text('nope')");
      await screenshot(page, tmp, "TROUPE_KEEP_CHARTS");
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
