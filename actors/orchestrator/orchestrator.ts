import type { z } from "zod";
import type { EventType, Ledger } from "../../ledger/mod.ts";
import {
  type ApprovalDesk,
  type ApprovalRequest,
  type Decision,
  describe,
  type PolicyEngine,
} from "../../policies/mod.ts";
import type {
  ActorRef,
  ActorSystem,
  AgentSource,
  HealthMonitor,
  Lease,
} from "../../runtime/mod.ts";
import { type Effect, sleep } from "../../runtime/mod.ts";
import type { TaskReply } from "../tasks/define_agent.ts";
import { inTaskSpan, taskOutcome } from "../tasks/run_trace.ts";
import { validatePlan } from "../tasks/task_graph.ts";
import { TaskDead, TaskFailed, TaskSkipped, TaskStarted, TaskSucceeded } from "./run_events.ts";
import type { TaskPacket, TaskPacketInput, TaskRequest } from "../tasks/task_packet.ts";

/** How a run stands, sent to `onProgress` after every step. */
export interface Progress {
  /** Running tasks, with the agent each is on once it has one: `generate_ci@delivery-1`. */
  running: string[];
  done: number;
  failed: number;
  skipped: number;
  total: number;
  event: string;
  /** Model spend so far in the run, when models are used. */
  spend?: { calls: number; tokens: number; costUsd: number };
}

/** What an orchestrator runs on and reports to. */
export interface OrchestratorOptions {
  system: ActorSystem;
  ledger: Ledger;
  runId: string;
  /** Where agents for the capabilities its templates offer are leased from, one task each. */
  agents?: AgentSource;
  /** Told how each task went on which agent, so that failing agents get restarted. */
  health?: HealthMonitor;
  /** How many tasks run at once (default 4). */
  maxParallel?: number;
  /** Decides each task as `task.KIND` on its capability with its risk. */
  policy?: PolicyEngine;
  /** Where tasks that policy says need approval wait; without it they are dead-lettered. */
  approvals?: ApprovalDesk;
  /** Outputs of tasks completed before a crash, by task id (see `recoverRun`). */
  completed?: Map<string, unknown>;
  onProgress?: (p: Progress) => void;
  onApprovalNeeded?: (request: ApprovalRequest) => void;
  /** Cancels the run: no task starts after it aborts; tasks not started are skipped. */
  signal?: AbortSignal;
  /** A recorded run this one re-executes (`replay --verify`): what it answers instead. */
  replay?: RecordedOutcomes;
}

/**
 * What a recorded run got from outside the code, per task: the effects of each attempt an
 * agent answered, why an attempt no agent answered failed (a timeout, a crash), and why a task
 * that waited for approval could not run (people's votes).
 */
export interface RecordedOutcomes {
  attempt(taskId: string, attempt: number): { effects: Effect[] } | { failure: string } | undefined;
  refusal(taskId: string): string | undefined;
}

/** What a run produced: each task's output, its dead letters and its skipped tasks. */
export interface RunOutcome {
  outputs: Map<string, unknown>;
  /** Tasks that exhausted their retries: the run's dead-letter list. */
  dead: { taskId: string; attempts: number; cause: string }[];
  skipped: { taskId: string; reason: string }[];
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, base: number, max: number): number {
  return Math.random() * Math.min(max, base * 2 ** (attempt - 1));
}

/**
 * Executes a task DAG on the agents of an actor system: ready tasks go, in parallel up to a
 * limit, to an agent registered with the task's capability; failures are retried with backoff
 * and jitter; a task out of retries is dead-lettered with its cause and its dependents are
 * skipped with a reason. Every step is a ledger event, so a run can be resumed after a crash
 * without doing completed tasks again.
 */
export class Orchestrator {
  constructor(readonly o: OrchestratorOptions) {}

  /** Validates the plan, runs it to the end and returns its outcome; throws a `PlanError` before anything runs when the plan is invalid. */
  async run(plan: TaskPacketInput[]): Promise<RunOutcome> {
    const { system, ledger, runId } = this.o;
    const capabilities = new Set([
      ...system.registry.list().flatMap((e) => e.capabilities),
      ...this.o.agents?.capabilities() ?? [],
    ]);
    const tasks = validatePlan(plan, capabilities);
    const outputs = new Map<string, unknown>();
    const dead: RunOutcome["dead"] = [];
    const skipped: RunOutcome["skipped"] = [];
    const running = new Map<string, Promise<void>>();
    const pending = new Map(tasks.map((t) => [t.id, t]));
    const on = new Map<string, string>(); // task id -> the agent it runs on
    const record = <S extends z.ZodType>(
      actor: string,
      kind: EventType<string, S>,
      payload: z.input<S>,
    ) => ledger.record(kind, { runId, actor, correlationId: runId, payload });
    const progress = (event: string) =>
      this.o.onProgress?.({
        running: [...running.keys()].map((id) => on.has(id) ? `${id}@${on.get(id)}` : id),
        done: outputs.size,
        failed: dead.length,
        skipped: skipped.length,
        total: tasks.length,
        event,
      });

    for (const [id, output] of this.o.completed ?? []) {
      if (!pending.has(id)) continue;
      pending.delete(id);
      outputs.set(id, output);
      progress(`${id} already done (resumed)`);
    }

    const execute = async (task: TaskPacket): Promise<void> => {
      const deps = Object.fromEntries(task.dependsOn.map((d) => [d, outputs.get(d)]));
      const gate = this.o.policy?.decide({
        action: `task.${task.kind}`,
        actor: "orchestrator",
        capability: task.capability,
        risk: task.risk,
      });
      // A replay takes people's answers to approval requests from the record.
      const refusal = gate && gate.effect !== "allow"
        ? gate.effect === "require_approval" && this.o.replay
          ? this.o.replay.refusal(task.id)
          : await this.#gate(task, gate)
        : undefined;
      if (refusal) {
        const cause = `policy: ${refusal}`;
        await record("orchestrator", TaskDead, {
          taskId: task.id,
          kind: task.kind,
          attempts: 0,
          cause,
        });
        dead.push({ taskId: task.id, attempts: 0, cause });
        return;
      }
      let cause = "";
      let previous: string | undefined;
      // Attempts lost with a node of the cluster are not the task's: they do not count (3 at most).
      let lost = 0;
      for (let attempt = 1; attempt <= task.retry.maxAttempts + lost; attempt++) {
        const lease = await this.#lease(task, previous);
        if (typeof lease === "string") {
          cause = lease;
          break;
        }
        // A retry goes to a different agent when there is one.
        const agent = lease.agent;
        previous = agent.id;
        on.set(task.id, agent.id);
        const t0 = system.clock.now();
        const started = await record(agent.id, TaskStarted, {
          taskId: task.id,
          kind: task.kind,
          attempt,
        });
        progress(`${task.id} started on ${agent.id} (attempt ${attempt})`);
        const attemptOf = { runId, taskId: task.id, kind: task.kind, attempt, agent: agent.id };
        // The attempt's span is active while the agent's message goes out: it carries it along.
        const done = await inTaskSpan(attemptOf, started.seq, async (span) => {
          let effects: Effect[] | undefined;
          try {
            const recorded = this.o.replay?.attempt(task.id, attempt);
            if (recorded && "failure" in recorded) {
              lease.release();
              throw new Error(recorded.failure);
            }
            const request: TaskRequest = {
              type: "task",
              task,
              deps,
              started: { runId, seq: started.seq },
            };
            if (this.o.replay) request.replay = recorded?.effects ?? [];
            const reply = await agent.ask<TaskReply>(request, { timeoutMs: task.timeoutMs })
              .finally(() => lease.release());
            effects = reply.effects;
            this.o.health?.report(agent.id, reply.ok);
            if (!reply.ok) throw new Error(reply.error);
            const output = reply.output;
            const durationMs = Math.round(system.clock.now() - t0);
            const ack = await record(agent.id, TaskSucceeded, {
              taskId: task.id,
              kind: task.kind,
              attempt,
              durationMs,
              idempotencyKey: task.idempotencyKey ?? task.id,
              output,
              ...(effects?.length ? { effects } : {}),
            });
            taskOutcome(span, ack.seq);
            outputs.set(task.id, output);
            progress(`${task.id} done`);
            return true;
          } catch (err) {
            cause = (err as Error).message;
            if ((err as { code?: string }).code === "node_down" && lost < 3) lost++;
            const ack = await record(agent.id, TaskFailed, {
              taskId: task.id,
              kind: task.kind,
              attempt,
              durationMs: Math.round(system.clock.now() - t0),
              cause,
              ...(effects ? { effects } : {}),
            });
            taskOutcome(span, ack.seq, cause);
            progress(`${task.id} failed (attempt ${attempt}): ${cause.split("\n")[0]}`);
            return false;
          }
        });
        if (done) return;
        // A replay waits for no one: the backoff only spaces out attempts in time.
        if (attempt < task.retry.maxAttempts + lost && !this.o.replay) {
          await sleep(
            system.clock,
            backoffMs(attempt, task.retry.baseDelayMs, task.retry.maxDelayMs),
          );
        }
      }
      await record("orchestrator", TaskDead, {
        taskId: task.id,
        kind: task.kind,
        attempts: task.retry.maxAttempts + lost,
        cause,
      });
      dead.push({ taskId: task.id, attempts: task.retry.maxAttempts + lost, cause });
    };

    await this.#loop(pending, running, outputs, dead, skipped, execute, record, progress);
    await ledger.flush();
    return { outputs, dead, skipped };
  }

  /**
   * A task that needs approval waits for it here, without holding up other tasks; returns why
   * the task may not run, or nothing when it may.
   */
  async #gate(task: TaskPacket, gate: Decision): Promise<string | undefined> {
    const desk = this.o.approvals;
    if (gate.effect !== "require_approval" || !desk) return gate.reason;
    const request = await desk.request({
      runId: this.o.runId,
      key: `task:${task.id}`,
      action: gate.request.action,
      actor: "orchestrator",
      resources: [task.id],
      summary: `run task ${task.id} (${task.kind}, risk ${task.risk})`,
      approval: gate.approval!,
    });
    this.o.onApprovalNeeded?.(request);
    const state = await desk.wait(request.id, this.o.signal).catch((err) => {
      if (this.o.signal?.aborted) return undefined;
      throw err;
    });
    if (!state) return `the run was cancelled while approval ${request.id} waited`;
    return state.status === "granted"
      ? undefined
      : `approval ${request.id} ${describe(request, state)}`;
  }

  /**
   * An agent for a task: leased from the factory when a template offers the capability, else
   * the least loaded running actor with it, waiting (up to the task's timeout) while crashed
   * ones restart. Returns why there is none otherwise.
   */
  async #lease(task: TaskPacket, avoid?: string): Promise<Lease | string> {
    const factory = this.o.agents;
    if (factory?.offers(task.capability)) {
      return await factory.lease(task.capability, { avoid, timeoutMs: task.timeoutMs })
        .catch((err: Error) => err.message);
    }
    const deadline = this.o.system.clock.now() + task.timeoutMs;
    let agents: ActorRef[];
    while ((agents = this.o.system.find(task.capability)).length === 0) {
      if (this.o.system.clock.now() > deadline) {
        return `no running agent has capability "${task.capability}"`;
      }
      await sleep(this.o.system.clock, 20);
    }
    return { agent: agents.find((a) => a.id !== avoid) ?? agents[0], release: () => {} };
  }

  async #loop(
    pending: Map<string, TaskPacket>,
    running: Map<string, Promise<void>>,
    outputs: Map<string, unknown>,
    dead: RunOutcome["dead"],
    skipped: RunOutcome["skipped"],
    execute: (t: TaskPacket) => Promise<void>,
    record: (
      actor: string,
      kind: typeof TaskSkipped,
      payload: z.input<typeof TaskSkipped.payload>,
    ) => Promise<unknown>,
    progress: (event: string) => void,
  ): Promise<void> {
    const limit = this.o.maxParallel ?? 4;
    const finished = (id: string) =>
      outputs.has(id) || dead.some((d) => d.taskId === id) ||
      skipped.some((s) => s.taskId === id);
    const cancelled = () => this.o.signal?.aborted ?? false;
    while (pending.size > 0 || running.size > 0) {
      if (cancelled()) {
        const reason = `the run was cancelled: ${String(this.o.signal!.reason ?? "cancelled")}`;
        for (const task of [...pending.values()]) {
          pending.delete(task.id);
          skipped.push({ taskId: task.id, reason });
          await record("orchestrator", TaskSkipped, { taskId: task.id, kind: task.kind, reason });
          progress(`${task.id} skipped: ${reason}`);
        }
      }
      for (const task of [...pending.values()]) {
        const blocker = task.dependsOn.find((d) =>
          !task.optional.includes(d) &&
          (dead.some((x) => x.taskId === d) || skipped.some((x) => x.taskId === d))
        );
        if (blocker) {
          pending.delete(task.id);
          const reason = `depends on ${blocker}, which did not complete`;
          skipped.push({ taskId: task.id, reason });
          await record("orchestrator", TaskSkipped, {
            taskId: task.id,
            kind: task.kind,
            reason,
          });
          progress(`${task.id} skipped: ${reason}`);
          continue;
        }
        const ready = task.dependsOn.every((d) =>
          outputs.has(d) || (task.optional.includes(d) && finished(d))
        );
        if (running.size >= limit || !ready) continue;
        pending.delete(task.id);
        running.set(task.id, execute(task).finally(() => running.delete(task.id)));
      }
      if (running.size > 0) {
        // Woken by a task ending, or by a cancel (once: pending tasks are then skipped).
        await Promise.race([...running.values(), ...cancelled() ? [] : [aborted(this.o.signal)]]);
      } else if (
        pending.size > 0 && ![...pending.values()].some((t) => t.dependsOn.every(finished))
      ) {
        break; // cannot happen after validatePlan; guards against an endless loop
      }
    }
  }
}

/** Resolves when `signal` aborts; never, without one. */
function aborted(signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
