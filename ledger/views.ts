/**
 * Metrics and learning are views over `events`, not code. Each has an example query, which the
 * README lists and a test runs. They read payloads with `json_extract_string` (not `->>`), which
 * the wasm engine, having no JSON extension, provides itself.
 */
export interface LedgerView {
  name: string;
  about: string;
  example: string;
  sql: string;
}

/** The views every ledger has, each with what it answers and an example query. */
export const VIEWS: LedgerView[] = [
  {
    name: "message_flow",
    about: "messages delivered, per run, sender, receiver and message type",
    example: "SELECT sender, receiver, messages FROM message_flow ORDER BY messages DESC LIMIT 10",
    sql: `CREATE OR REPLACE VIEW message_flow AS
      SELECT run_id, coalesce(json_extract_string(payload, '$.from'), 'outside') AS sender,
             actor AS receiver,
             json_extract_string(payload, '$.messageType') AS message_type, count(*) AS messages,
             min(ts) AS first_at, max(ts) AS last_at
      FROM events WHERE type = 'delivered' GROUP BY ALL`,
  },
  {
    name: "actor_uptime",
    about: "per run and actor: first spawn, last stop, crashes, restarts and uptime",
    example: "SELECT actor, restarts, crashes, uptime_ms FROM actor_uptime WHERE restarts > 0",
    sql: `CREATE OR REPLACE VIEW actor_uptime AS
      WITH run_end AS (SELECT run_id, max(ts) AS ended FROM events GROUP BY run_id)
      SELECT e.run_id, e.actor,
             min(e.ts) FILTER (WHERE e.type = 'spawned') AS first_spawned,
             max(e.ts) FILTER (WHERE e.type = 'stopped') AS last_stopped,
             count(*) FILTER (WHERE e.type = 'crashed') AS crashes,
             count(*) FILTER (WHERE e.type = 'restarted') AS restarts,
             epoch_ms(coalesce(max(e.ts) FILTER (WHERE e.type = 'stopped'), any_value(r.ended)))
               - epoch_ms(min(e.ts) FILTER (WHERE e.type = 'spawned')) AS uptime_ms
      FROM events e JOIN run_end r USING (run_id)
      WHERE e.type IN ('spawned', 'stopped', 'crashed', 'restarted')
      GROUP BY e.run_id, e.actor`,
  },
  {
    name: "task_outcomes",
    about: "each finished task: kind, agent, model, outcome, attempts and duration",
    example: "SELECT kind, outcome, avg(duration_ms) FROM task_outcomes GROUP BY ALL",
    sql: `CREATE OR REPLACE VIEW task_outcomes AS
      SELECT run_id, json_extract_string(payload, '$.taskId') AS task_id,
             json_extract_string(payload, '$.kind') AS kind, actor AS agent,
             json_extract_string(payload, '$.model') AS model,
             json_extract_string(payload, '$.plan') AS plan,
             replace(type, 'task_', '') AS outcome,
             CAST(json_extract_string(payload, '$.attempt') AS INTEGER) AS attempts,
             CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms,
             json_extract_string(payload, '$.cause') AS cause, ts AS finished_at
      FROM events WHERE type IN ('task_succeeded', 'task_failed', 'task_skipped')`,
  },
  {
    name: "failures_by_cause",
    about: "actor crashes and failed tasks grouped by their cause",
    example: "SELECT cause, failures FROM failures_by_cause ORDER BY failures DESC",
    sql: `CREATE OR REPLACE VIEW failures_by_cause AS
      SELECT kind, cause, count(*) AS failures, count(DISTINCT actor) AS actors, max(ts) AS last_seen
      FROM (
        SELECT 'crash' AS kind,
               coalesce(json_extract_string(payload, '$.error.name'), 'Error') || ': ' ||
               coalesce(json_extract_string(payload, '$.error.message'), '') AS cause, actor, ts
        FROM events WHERE type = 'crashed'
        UNION ALL
        SELECT 'task' AS kind, coalesce(json_extract_string(payload, '$.cause'), 'unknown') AS cause, actor, ts
        FROM events WHERE type = 'task_failed'
      ) GROUP BY kind, cause`,
  },
  {
    name: "llm_usage",
    about: "LLM calls, with OpenTelemetry GenAI attribute names for tokens, model and system",
    example:
      `SELECT "gen_ai.request.model", sum("gen_ai.usage.input_tokens") AS input, sum(cost_usd) AS cost FROM llm_usage GROUP BY ALL`,
    sql: `CREATE OR REPLACE VIEW llm_usage AS
      SELECT run_id, seq, actor, ts,
             json_extract_string(payload, '$.system') AS "gen_ai.system",
             json_extract_string(payload, '$.operation') AS "gen_ai.operation.name",
             json_extract_string(payload, '$.model') AS "gen_ai.request.model",
             json_extract_string(payload, '$.responseModel') AS "gen_ai.response.model",
             json_extract_string(payload, '$.provider') AS provider,
             coalesce(json_extract_string(payload, '$.outcome'), 'ok') AS outcome,
             json_extract_string(payload, '$.role') AS agent_role,
             CAST(json_extract_string(payload, '$.inputTokens') AS BIGINT) AS "gen_ai.usage.input_tokens",
             CAST(json_extract_string(payload, '$.outputTokens') AS BIGINT) AS "gen_ai.usage.output_tokens",
             CAST(json_extract_string(payload, '$.costUsd') AS DOUBLE) AS cost_usd,
             CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms,
             json_extract_string(payload, '$.taskId') AS task_id,
             json_extract_string(payload, '$.replayedFrom') AS replayed_from
      FROM events WHERE type = 'llm_call'`,
  },
  {
    name: "run_tasks",
    about:
      "each run's tasks, one row each: kind, final outcome, attempts, duration, tokens, cost, a hash of the output, and the parent run a fork reused it from; two runs line up task by task with a FULL JOIN",
    example:
      "SELECT coalesce(a.task_id, b.task_id) AS task_id, a.outcome AS a_outcome, b.outcome AS b_outcome, a.output_hash = b.output_hash AS same_output FROM (SELECT * FROM run_tasks WHERE run_id = 'run-views') a FULL JOIN (SELECT * FROM run_tasks WHERE run_id = 'run-views') b USING (task_id) ORDER BY task_id",
    sql: `CREATE OR REPLACE VIEW run_tasks AS
      WITH t AS (
        SELECT run_id, seq, type,
               json_extract_string(payload, '$.taskId') AS task_id,
               json_extract_string(payload, '$.kind') AS kind,
               CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms,
               json_extract_string(payload, '$.forkedFrom') AS forked_from,
               CAST(json_extract_string(payload, '$.attempt') AS INTEGER) AS attempt,
               md5(coalesce(json_extract_string(payload, '$.output'), '')) AS output_hash
        FROM events
        WHERE type IN ('task_started', 'task_succeeded', 'task_dead', 'task_skipped')
      ), calls AS (
        SELECT run_id, json_extract_string(payload, '$.taskId') AS task_id,
               sum(CAST(json_extract_string(payload, '$.inputTokens') AS BIGINT)
                 + CAST(json_extract_string(payload, '$.outputTokens') AS BIGINT)) AS tokens,
               sum(CAST(json_extract_string(payload, '$.costUsd') AS DOUBLE)) AS cost_usd
        FROM events WHERE type = 'llm_call' GROUP BY ALL
      )
      SELECT t.run_id, t.task_id, any_value(t.kind) AS kind,
             arg_max(CASE t.type WHEN 'task_succeeded' THEN 'succeeded'
                                 WHEN 'task_dead' THEN 'dead'
                                 WHEN 'task_skipped' THEN 'skipped'
                                 ELSE 'unfinished' END, t.seq) AS outcome,
             -- A fork's reused task has no start of its own: its success names the attempt.
             greatest(count(*) FILTER (WHERE t.type = 'task_started'),
                      coalesce(max(t.attempt) FILTER (WHERE t.type = 'task_succeeded'), 0))
               AS attempts,
             max(t.duration_ms) FILTER (WHERE t.type = 'task_succeeded') AS duration_ms,
             coalesce(any_value(c.tokens), 0) AS tokens,
             coalesce(any_value(c.cost_usd), 0) AS cost_usd,
             max(t.output_hash) FILTER (WHERE t.type = 'task_succeeded') AS output_hash,
             max(t.forked_from) AS forked_from
      FROM t LEFT JOIN calls c ON c.run_id = t.run_id AND c.task_id = t.task_id
      GROUP BY t.run_id, t.task_id`,
  },
  {
    name: "tool_calls",
    about:
      "agents' tool calls: task, step, server (builtin or an MCP server), tool, arguments, the policy's effect and the result",
    example: "SELECT task_id, step, server, tool, effect, ok FROM tool_calls ORDER BY seq",
    sql: `CREATE OR REPLACE VIEW tool_calls AS
      SELECT run_id, seq, ts,
             json_extract_string(payload, '$.taskId') AS task_id,
             json_extract_string(payload, '$.role') AS agent_role,
             CAST(json_extract_string(payload, '$.step') AS INTEGER) AS step,
             json_extract_string(payload, '$.server') AS server,
             json_extract_string(payload, '$.tool') AS tool,
             json_extract_string(payload, '$.arguments') AS arguments,
             json_extract_string(payload, '$.effect') AS effect,
             json_extract_string(payload, '$.reason') AS reason,
             CAST(json_extract_string(payload, '$.ok') AS BOOLEAN) AS ok,
             json_extract_string(payload, '$.result') AS result,
             CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms,
             json_extract_string(payload, '$.replayedFrom') AS replayed_from
      FROM events WHERE type = 'tool_call'`,
  },
  {
    name: "lessons",
    about:
      "what worked and what failed, from the runs' lessons: success rate per task kind, agent, model and plan",
    example:
      "SELECT kind, agent, model, success_rate FROM lessons WHERE tasks >= 3 ORDER BY success_rate DESC",
    sql: `CREATE OR REPLACE VIEW lessons AS
      SELECT kind, agent, coalesce(model, 'none') AS model, coalesce(plan, 'default') AS plan,
             count(*) AS tasks,
             count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
             count(*) FILTER (WHERE outcome = 'dead') AS failed,
             round(count(*) FILTER (WHERE outcome = 'succeeded') / count(*), 3) AS success_rate,
             avg(duration_ms) AS avg_duration_ms,
             CASE WHEN count(*) FILTER (WHERE outcome = 'succeeded') = count(*) THEN 'worked'
                  WHEN count(*) FILTER (WHERE outcome = 'succeeded') = 0 THEN 'failed'
                  ELSE 'mixed' END AS verdict
      FROM (
        SELECT json_extract_string(payload, '$.kind') AS kind,
               json_extract_string(payload, '$.agent') AS agent,
               json_extract_string(payload, '$.model') AS model,
               json_extract_string(payload, '$.plan') AS plan,
               json_extract_string(payload, '$.outcome') AS outcome,
               CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms
        FROM events WHERE type = 'lesson'
      ) WHERE outcome <> 'skipped' GROUP BY ALL`,
  },
  {
    name: "coverage",
    about:
      "each project's tests per run: verdict, time, and the share of lines (Go: statements, coverage_unit) they ran where the ecosystem's tool measured it",
    example:
      "SELECT run_id, project, verdict, coverage_pct FROM coverage WHERE coverage_pct IS NOT NULL ORDER BY seq",
    sql: `CREATE OR REPLACE VIEW coverage AS
      SELECT run_id, seq, ts,
             json_extract_string(payload, '$.project') AS project,
             json_extract_string(payload, '$.command') AS command,
             json_extract_string(payload, '$.verdict') AS verdict,
             CAST(json_extract_string(payload, '$.durationMs') AS DOUBLE) AS duration_ms,
             CAST(json_extract_string(payload, '$.coveragePct') AS DOUBLE) AS coverage_pct,
             CAST(json_extract_string(payload, '$.linesCovered') AS BIGINT) AS lines_covered,
             CAST(json_extract_string(payload, '$.linesTotal') AS BIGINT) AS lines_total,
             json_extract_string(payload, '$.coverageTool') AS coverage_tool,
             CASE WHEN json_extract_string(payload, '$.coveragePct') IS NOT NULL
                  THEN coalesce(json_extract_string(payload, '$.coverageUnit'), 'lines') END
               AS coverage_unit
      FROM events WHERE type = 'test_result'`,
  },
];
