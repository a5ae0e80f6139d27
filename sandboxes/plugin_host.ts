import { resolve, sep } from "node:path";
import type { Ledger } from "../ledger/mod.ts";
import type { PolicyEngine } from "../policies/mod.ts";
import type { HostFunctionName } from "./host_function_names.ts";
import type { PluginLimits } from "./plugin_manifest.ts";
import type { HostHandler } from "./sandbox.ts";
import { PluginHostDenied, PluginKv } from "./plugin_events.ts";

/** How a plugin reaches actors: the actor context of a plugin actor, or the system. */
export interface PluginMessaging {
  /** Sends a message to an actor for the plugin. */
  tell(to: string, message: unknown): void;
  /** Asks an actor for the plugin, within `timeoutMs`. */
  ask(to: string, message: unknown, timeoutMs: number): Promise<unknown>;
  /** Publishes to a topic for the plugin. */
  publish(topic: string, message: unknown): void;
}

/** What a plugin's host functions reach, and the policy that gates each call. */
export interface PluginHostOptions {
  /** Who is asking: the plugin actor's id, or the plugin's name. */
  actor: string;
  limits: PluginLimits;
  policy: PolicyEngine;
  ledger?: Ledger;
  runId?: string | null;
  messaging?: PluginMessaging;
  log?: (level: string, text: string) => void;
  /** Replaced in tests only by another real fetch (e.g. with a custom client). */
  fetch?: typeof fetch;
}

const str = (v: unknown, field: string): string => {
  if (typeof v !== "string" || v.length === 0) {
    throw new Error(`"${field}" must be a non-empty string`);
  }
  return v;
};
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {};

function hostAllowed(host: string, allowed: string[]): boolean {
  return allowed.some((a) => a === host || (a.startsWith("*.") && host.endsWith(a.slice(1))));
}

/**
 * The host functions a plugin may call. Each call is a `plugin.host_call` policy request with
 * the function as capability and its target as resource; a denied call is recorded in the
 * ledger and returned to the plugin as an error, and the plugin keeps running.
 */
export async function createPluginHost(o: PluginHostOptions): Promise<HostHandler> {
  const kv = new Map<string, unknown>();
  if (o.ledger) {
    for await (const e of o.ledger.events([PluginKv], { actor: o.actor })) {
      kv.set(e.payload.key, e.payload.value);
    }
  }
  let kvBytes = [...kv.values()].reduce<number>((n, v) => n + JSON.stringify(v).length, 0);

  const deny = async (fn: HostFunctionName, resource: string, reason: string) => {
    await o.ledger?.record(PluginHostDenied, {
      runId: o.runId ?? null,
      actor: o.actor,
      payload: { fn, resource, reason },
    });
    throw new Error(`${fn}(${resource}) denied: ${reason}`);
  };
  const gate = async (fn: HostFunctionName, resource: string) => {
    const d = o.policy.decide({
      action: "plugin.host_call",
      actor: o.actor,
      capability: fn,
      resource,
    });
    if (d.effect === "allow") return;
    await deny(
      fn,
      resource,
      d.effect === "require_approval"
        ? "needs approval, which a host call cannot wait for"
        : d.reason,
    );
  };

  const handlers: Record<HostFunctionName, (r: Record<string, unknown>) => Promise<unknown>> = {
    async log(r) {
      await gate("log", "log");
      const level = ["debug", "info", "warn", "error"].includes(String(r.level))
        ? String(r.level)
        : "info";
      o.log?.(level, String(r.message ?? "").slice(0, 4096));
      return null;
    },
    async emit(r) {
      if (!o.messaging) throw new Error("emit is not available outside an actor system");
      if (r.topic !== undefined) {
        const topic = str(r.topic, "topic");
        await gate("emit", `topic:${topic}`);
        o.messaging.publish(topic, r.message ?? null);
      } else {
        const to = str(r.to, "to");
        await gate("emit", `actor:${to}`);
        o.messaging.tell(to, r.message ?? null);
      }
      return null;
    },
    async ask(r) {
      if (!o.messaging) throw new Error("ask is not available outside an actor system");
      const to = str(r.to, "to");
      await gate("ask", `actor:${to}`);
      const timeoutMs = Math.min(Number(r.timeoutMs ?? o.limits.timeoutMs), o.limits.timeoutMs);
      return await o.messaging.ask(to, r.message ?? null, timeoutMs);
    },
    async sql(r) {
      if (!o.ledger) throw new Error("sql needs a ledger");
      const query = str(r.query, "query");
      await gate("sql", "ledger");
      return await o.ledger.query(query, { timeoutMs: o.limits.timeoutMs, maxRows: 1000 });
    },
    async kv_get(r) {
      const key = str(r.key, "key");
      await gate("kv_get", `kv:${key}`);
      return kv.get(key) ?? null;
    },
    async kv_set(r) {
      const key = str(r.key, "key");
      await gate("kv_set", `kv:${key}`);
      const value = r.value ?? null;
      const size = JSON.stringify(value).length;
      const old = kv.has(key) ? JSON.stringify(kv.get(key)).length : 0;
      if (kvBytes - old + size > o.limits.maxVarBytes) {
        throw new Error(
          `kv_set: state would exceed ${o.limits.maxVarBytes} bytes (limits.maxVarBytes)`,
        );
      }
      // Acknowledged only once it is in the ledger, so a restarted plugin sees it.
      await o.ledger?.record(PluginKv, {
        runId: o.runId ?? null,
        actor: o.actor,
        payload: { key, value },
      });
      kv.set(key, value);
      kvBytes += size - old;
      return null;
    },
    async http_fetch(r) {
      const url = new URL(str(r.url, "url"));
      if (!["http:", "https:"].includes(url.protocol)) {
        throw new Error(`http_fetch: ${url.protocol} is not http(s)`);
      }
      if (!hostAllowed(url.hostname, o.limits.allowedHosts)) {
        await deny("http_fetch", url.hostname, "the host is not in limits.allowedHosts");
      }
      await gate("http_fetch", url.hostname);
      const res = await (o.fetch ?? fetch)(url, {
        method: typeof r.method === "string" ? r.method : "GET",
        headers: obj(r.headers) as Record<string, string>,
        body: typeof r.body === "string" ? r.body : undefined,
        signal: AbortSignal.timeout(o.limits.timeoutMs),
        redirect: "manual", // a redirect could leave the allowed hosts
      });
      const body = await res.text();
      if (body.length > o.limits.maxOutputBytes) {
        throw new Error(`http_fetch: response larger than ${o.limits.maxOutputBytes} bytes`);
      }
      return { status: res.status, headers: Object.fromEntries(res.headers), body };
    },
    async read_file(r) {
      const path = resolve(str(r.path, "path"));
      const inside = o.limits.allowedPaths.some((root) => {
        const base = resolve(root);
        return path === base || path.startsWith(base + sep);
      });
      if (!inside) {
        await deny("read_file", path, "the path is not under limits.allowedPaths");
      }
      await gate("read_file", path);
      const info = await Deno.stat(path);
      if (info.size > o.limits.maxOutputBytes) {
        throw new Error(`read_file: ${path} is larger than ${o.limits.maxOutputBytes} bytes`);
      }
      return await Deno.readTextFile(path);
    },
  };

  return (fn, request) => handlers[fn](obj(request));
}
