// troupe's control center: plain DOM over the control endpoint's JSON routes and its live
// event stream. No build step; the server serves this file as it is.

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
      ], { "data-task": t.id })
    ),
  );
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
const refreshActors = debounce(() => showActors().catch(report), 200);

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
  showSpend().catch(report);
  // Actors and approvals also change without a ledger event the page follows (load, votes).
  polling = setInterval(() => {
    showActors().catch(report);
    showApprovals().catch(report);
  }, 2000);
  follow().catch((err) => err.name !== "AbortError" && report(err));
}

restart();
