// troupe's control center: plain DOM over the control endpoint's JSON routes and its live
// event stream. No build step; the server serves this file as it is.

import { barChart, lineChart } from "./charts.js";

const $ = (selector) => document.querySelector(selector);
const tokenInput = $("#token");
// The address a server prints carries its token after "#" (never sent to the server, never in its
// logs): keep it, then take it out of the address bar.
const given = new URLSearchParams(location.hash.slice(1)).get("token");
if (given) {
  localStorage.setItem("troupe.token", given);
  history.replaceState(null, "", location.pathname);
}
tokenInput.value = localStorage.getItem("troupe.token") ?? "";
tokenInput.addEventListener("change", () => {
  localStorage.setItem("troupe.token", tokenInput.value);
  restart();
});

const headers = () => {
  const h = { "content-type": "application/json" };
  if (tokenInput.value) h.authorization = `Bearer ${tokenInput.value}`;
  return h;
};

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: headers() });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** A table row from cells; text only, so nothing a run reports can inject markup. */
function row(cells, attrs = {}) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else if (cell && typeof cell === "object") {
      td.textContent = cell.text;
      if (cell.state) td.dataset.state = cell.state;
      if (cell.testid) td.dataset.testid = cell.testid;
    } else td.textContent = cell ?? "";
    tr.append(td);
  }
  return tr;
}

function fill(table, rows) {
  const body = $(`${table} tbody`);
  body.replaceChildren(...rows);
}

// Runs and the selected run's DAG.
let selected = localStorage.getItem("troupe.run") ?? "";

async function showRuns() {
  const runs = await api("/runs");
  const compare = $("#compare");
  const picked = compare.value;
  compare.replaceChildren(
    new Option("(another run)", ""),
    ...runs.filter((r) => r.runId !== selected).map((r) => new Option(r.runId, r.runId)),
  );
  compare.value = picked;
  if (!selected && runs[0]) selected = runs[0].runId;
  fill(
    "#runs",
    runs.map((r) => {
      const action = document.createElement("span");
      const verb = r.status === "running" ? "cancel" : r.status === "interrupted" ? "resume" : "";
      if (verb) {
        const b = document.createElement("button");
        b.textContent = verb;
        b.addEventListener("click", (ev) => {
          ev.stopPropagation();
          api(`/runs/${encodeURIComponent(r.runId)}/${verb}`, { method: "POST" }).catch(report);
        });
        action.append(b);
      }
      const tr = row([
        r.runId,
        { text: r.status, state: r.status, testid: `run-status-${r.runId}` },
        `${r.settings.goal} (${r.settings.repo})`,
        action,
      ], { "data-run": r.runId });
      if (r.runId === selected) tr.classList.add("selected");
      tr.addEventListener("click", () => select(r.runId));
      return tr;
    }),
  );
}

async function showTasks() {
  if (!selected) return;
  const run = await api(`/runs/${encodeURIComponent(selected)}`);
  $("#run-title").textContent = `${run.runId}: ${run.status}`;
  fill(
    "#tasks",
    run.tasks.map((t) =>
      row([
        t.id,
        { text: t.state, state: t.state, testid: `task-${t.id}` },
        t.agent ?? "",
        String(t.attempts),
        t.dependsOn.join(", "),
        t.cause ?? "",
        forkButton(run.runId, t.id),
      ], { "data-task": t.id })
    ),
  );
  await showPicture(run.runId);
}

/** "fork from here": a new run that reuses this one up to the task and does it again. */
function forkButton(runId, taskId) {
  const b = document.createElement("button");
  b.textContent = "fork from here";
  b.dataset.testid = `fork-${taskId}`;
  b.addEventListener("click", () =>
    api(`/runs/${encodeURIComponent(runId)}/fork`, {
      method: "POST",
      body: JSON.stringify({ at: taskId }),
    }).then((r) => {
      $("output").textContent = `forked ${r.runId}`;
      select(r.runId);
    }).catch(report));
  return b;
}

const SVG = "http://www.w3.org/2000/svg";
/** An SVG element with attributes; text only through textContent. */
function svg(name, attrs = {}, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The task graph as the server laid it out (dagre), and the timeline of tasks and model calls. */
async function showPicture(runId) {
  const p = await api(`/runs/${encodeURIComponent(runId)}/picture`);
  const graph = $("#graph");
  graph.setAttribute("viewBox", `0 0 ${p.graph.width} ${p.graph.height}`);
  graph.setAttribute("width", p.graph.width);
  graph.setAttribute("height", p.graph.height);
  const parts = [];
  for (const e of p.graph.edges) {
    parts.push(svg("polyline", {
      class: "edge",
      points: e.points.map((q) => `${q.x},${q.y}`).join(" "),
    }));
  }
  for (const n of p.graph.nodes) {
    const g = svg("g", { "data-testid": `node-${n.id}`, "data-state": n.state });
    g.append(
      svg("rect", {
        x: n.x - n.width / 2,
        y: n.y - n.height / 2,
        width: n.width,
        height: n.height,
        rx: 6,
      }),
      svg("text", { x: n.x, y: n.y + 4, "text-anchor": "middle" }, n.id),
    );
    parts.push(g);
  }
  graph.replaceChildren(...parts);
  // One lane per task and per model role, bars scaled to the run's length.
  const lanes = [...new Set(p.timeline.map((b) => b.lane))];
  const end = Math.max(1, ...p.timeline.map((b) => b.end));
  const width = 700;
  const timeline = $("#timeline");
  timeline.setAttribute("width", width + 160);
  timeline.setAttribute("height", lanes.length * 20 + 10);
  timeline.replaceChildren(
    ...lanes.map((lane, i) => svg("text", { x: 0, y: i * 20 + 18 }, lane)),
    ...p.timeline.map((b) => {
      const bar = svg("rect", {
        class: b.kind,
        "data-testid": `bar-${b.lane}`,
        x: 160 + (b.start / end) * width,
        y: lanes.indexOf(b.lane) * 20 + 6,
        width: Math.max(2, ((b.end - b.start) / end) * width),
        height: 14,
      });
      bar.append(svg("title", {}, `${b.label}: ${Math.round(b.end - b.start)} ms`));
      return bar;
    }),
  );
}

/** Two runs side by side: this one and the one picked, task by task and file by file. */
async function showDiff() {
  const other = $("#compare").value;
  if (!other || !selected) return fill("#diff", []);
  const d = await api(`/runs/${encodeURIComponent(selected)}/diff/${encodeURIComponent(other)}`);
  const cell = (l) => l ? `${l.outcome} ×${l.attempts}, ${l.tokens} tokens` : "-";
  fill("#diff", [
    ...d.tasks.map((t) =>
      row([
        t.taskId,
        { text: t.change, state: t.change, testid: `diff-${t.taskId}` },
        cell(t.a),
        cell(t.b),
      ])
    ),
    ...d.files.map((f) => row([f.path, { text: f.change, state: f.change }, "", ""])),
  ]);
}

function select(runId) {
  selected = runId;
  localStorage.setItem("troupe.run", runId);
  refreshRuns();
}

const refreshRuns = debounce(() => Promise.all([showRuns(), showTasks()]).catch(report), 100);

// Approvals: votes are signed here, with the key file the person picks, as `deno task approve`
// signs them; the key never leaves the page.
async function showApprovals() {
  const requests = await api("/approvals");
  fill(
    "#approvals",
    requests.map((r) => {
      const actions = document.createElement("span");
      if (r.outcome.status === "pending" || r.outcome.status === "orphaned") {
        for (const decision of ["approve", "reject"]) {
          const b = document.createElement("button");
          b.textContent = decision;
          b.dataset.testid = `${decision}-${r.id}`;
          b.addEventListener("click", () => vote(r, decision).catch(report));
          actions.append(b);
        }
      }
      return row([
        r.id,
        { text: r.outcome.status, state: r.outcome.status, testid: `approval-${r.id}` },
        r.summary,
        `${r.threshold} of ${r.roles.join("/")}`,
        actions,
      ], { "data-approval": r.id });
    }),
  );
}

/** RFC 8785 for a flat object of strings and integers: keys sorted, JSON.stringify values. */
const canonical = (o) =>
  `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(",")}}`;

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");

async function vote(request, decision) {
  const file = $("#key").files[0];
  if (!file) throw new Error("pick your key file (from deno task keys new) to sign");
  const key = JSON.parse(await file.text());
  const reason = decision === "reject" ? (prompt("why reject?") ?? "") : "";
  const v = {
    approvalId: request.id,
    requestHash: request.requestHash,
    decision,
    reason,
    signer: key.name,
    signedAt: Date.now(),
  };
  const privateKey = await crypto.subtle.importKey("jwk", key.jwk, { name: "Ed25519" }, false, [
    "sign",
  ]);
  const signature = await crypto.subtle.sign(
    "Ed25519",
    privateKey,
    new TextEncoder().encode(canonical(v)),
  );
  await api(`/approvals/${encodeURIComponent(request.id)}/votes`, {
    method: "POST",
    body: JSON.stringify({ vote: v, signature: base64url(signature) }),
  });
  await showApprovals();
}

async function showActors() {
  const actors = await api("/actors");
  fill(
    "#actors",
    actors.map((a) =>
      row([
        a.id,
        { text: a.status, state: a.status },
        a.capabilities.join(", "),
        String(a.mailbox),
        String(a.processed),
        String(a.restarts),
      ])
    ),
  );
}

async function showNodes() {
  const nodes = await api("/nodes");
  fill(
    "#nodes",
    nodes.map((n) =>
      row([
        n.here ? `${n.node} (here)` : n.node,
        String(n.actors.length),
        String(n.actors.reduce((sum, a) => sum + a.mailbox, 0)),
        n.teams.join(", ") || "-",
        n.here ? "now" : `${(n.seenAgoMs / 1000).toFixed(1)} s ago`,
      ])
    ),
  );
}

async function showSpend() {
  const { rows } = await api("/ledger/sql", {
    method: "POST",
    body: JSON.stringify({
      query: `SELECT run_id, count(*) AS calls, sum("gen_ai.usage.input_tokens") AS input,
                sum("gen_ai.usage.output_tokens") AS output, round(sum(cost_usd), 4) AS cost
              FROM llm_usage GROUP BY run_id ORDER BY run_id DESC LIMIT 20`,
    }),
  });
  fill("#spend", rows.map((r) => row([r.run_id, r.calls, r.input, r.output, r.cost])));
  // Tokens and cost over time, a running total per model.
  const over = await api("/ledger/sql", {
    method: "POST",
    body: JSON.stringify({
      query: `SELECT epoch_ms(ts) AS t, model,
                sum(tokens) OVER (PARTITION BY model ORDER BY ts, seq) AS tokens,
                sum(cost) OVER (PARTITION BY model ORDER BY ts, seq) AS cost
              FROM (SELECT ts, row_number() OVER () AS seq,
                      coalesce("gen_ai.response.model", "gen_ai.request.model") AS model,
                      coalesce("gen_ai.usage.input_tokens", 0) +
                        coalesce("gen_ai.usage.output_tokens", 0) AS tokens,
                      coalesce(cost_usd, 0) AS cost
                    FROM llm_usage WHERE outcome = 'ok')
              ORDER BY t LIMIT 5000`,
      maxRows: 5000,
    }),
  });
  const byModel = (field) => {
    const series = new Map();
    for (const r of over.rows) {
      const s = series.get(r.model) ?? [];
      s.push([Number(r.t), Number(r[field])]);
      series.set(r.model, s);
    }
    return [...series].map(([name, points]) => ({ name, points }));
  };
  lineChart($("#tokens-chart"), byModel("tokens"), "tokens");
  lineChart($("#cost-chart"), byModel("cost"), "USD");
}

// The SQL console: a read-only query, its rows as a table, and its first numeric column as bars.
async function runSql(query) {
  const { columns, rows, truncated } = await api("/ledger/sql", {
    method: "POST",
    body: JSON.stringify({ query, maxRows: 500 }),
  });
  const head = document.createElement("tr");
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c;
    head.append(th);
  }
  $("#sql-result thead").replaceChildren(head);
  fill("#sql-result", rows.map((r) => row(columns.map((c) => format(r[c])))));
  const numeric = columns.find((c) =>
    rows.length > 0 && rows.every((r) => r[c] === null || Number.isFinite(Number(r[c]))) &&
    rows.some((r) => typeof r[c] === "number" || /^-?\d/.test(String(r[c])))
  );
  const label = columns.find((c) => c !== numeric);
  const chart = $("#sql-chart");
  if (numeric) {
    barChart(
      chart,
      rows.map((r, i) => label ? String(r[label]) : String(i + 1)),
      rows.map((r) => Number(r[numeric] ?? 0)),
      numeric,
    );
  } else chart.replaceChildren();
  $("#sql-status").textContent = `${rows.length} row(s)${truncated ? ", cut" : ""}` +
    (numeric ? `; chart of ${numeric}` : "; no numeric column to chart");
}

function format(v) {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

// The live feed: the ledger's events over SSE, read with fetch so the token travels in a header.
let feed;
async function follow() {
  feed?.abort();
  feed = new AbortController();
  const res = await fetch("/events?mode=all", { headers: headers(), signal: feed.signal });
  if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
  $("#status").textContent = "live";
  $("#status").className = "live";
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5))
        .join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
}

function onEvent(e) {
  const li = document.createElement("li");
  li.textContent = `${e.seq} ${new Date(e.ts).toLocaleTimeString()} ${e.actor} ${e.type}` +
    (e.payload?.taskId ? ` ${e.payload.taskId}` : "");
  $("#feed").prepend(li);
  while ($("#feed").children.length > 100) $("#feed").lastChild.remove();
  if (/^(run_|task_)/.test(e.type)) {
    if (e.type === "run_started" && !selected) selected = e.runId;
    refreshRuns();
  }
  if (e.type.startsWith("approval_")) refreshApprovals();
  if (["spawned", "stopped", "restarted", "unregistered", "crashed"].includes(e.type)) {
    refreshActors();
  }
  if (e.type === "llm_call") showSpend().catch(report);
}

const refreshApprovals = debounce(() => showApprovals().catch(report), 100);
const refreshActors = debounce(
  () => Promise.all([showActors(), showNodes()]).catch(report),
  200,
);

$("#submit").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = {
    repo: f.get("repo"),
    autonomy: Number(f.get("autonomy")),
    apply: f.get("apply") === "on",
    runTests: f.get("runTests") === "on",
  };
  if (f.get("goal")) body.goal = f.get("goal");
  try {
    const { runId } = await api("/runs", { method: "POST", body: JSON.stringify(body) });
    $("#submit-result").textContent = `started ${runId}`;
    select(runId);
  } catch (err) {
    $("#submit-result").textContent = err.message;
  }
});

function report(err) {
  $("#status").textContent = err.message;
  $("#status").className = "";
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

let polling;
function restart() {
  clearInterval(polling);
  refreshRuns();
  showApprovals().catch(report);
  showActors().catch(report);
  showNodes().catch(report);
  showSpend().catch(report);
  // Actors, nodes and approvals also change without a ledger event the page follows.
  polling = setInterval(() => {
    showActors().catch(report);
    showNodes().catch(report);
    showApprovals().catch(report);
  }, 2000);
  follow().catch((err) => err.name !== "AbortError" && report(err));
}

restart();

$("#compare").addEventListener("change", () => showDiff().catch(report));
$("#sql").addEventListener("submit", (ev) => {
  ev.preventDefault();
  runSql(new FormData(ev.target).get("query")).catch((err) => {
    $("#sql-status").textContent = err.message;
  });
});
