import { z } from "zod";
import type { Ledger } from "../ledger/mod.ts";
import { PolicyEngine } from "../policies/mod.ts";
import { type ActorContext, type ActorSpecInput, defineActor } from "../runtime/mod.ts";
import { createPluginHost } from "../sandboxes/plugin_host.ts";
import { grantPolicy } from "../sandboxes/plugin_grants.ts";
import type { PluginManifest } from "../sandboxes/plugin_manifest.ts";
import { Sandbox } from "../sandboxes/sandbox.ts";

/** What a plugin agent's handler returns: its reply, and messages to send or publish. */
export const PluginReply = z.strictObject({
  reply: z.unknown().optional(),
  send: z.array(z.strictObject({ to: z.string().min(1), message: z.unknown() })).default([]),
  publish: z.array(z.strictObject({ topic: z.string().min(1), message: z.unknown() }))
    .default([]),
});

export interface PluginActorOptions {
  id: string;
  manifest: PluginManifest;
  /** The exported function each message goes to (default "handle"). */
  handler?: string;
  /** Host calls allowed, as `FN` or `FN:RESOURCE` (used when no `policy` is given). */
  grants?: string[];
  policy?: PolicyEngine;
  ledger?: Ledger;
  runId?: string | null;
  capabilities?: string[];
  subscriptions?: string[];
}

/**
 * A plugin agent: an actor whose behaviour is an Extism plugin running in a sandbox worker of
 * its own. Each message goes to the handler as `{"message": …}`; the handler's JSON result
 * says what to reply and what to send. A plugin that traps or times out crashes the actor, and
 * its supervisor restarts it with a fresh instance.
 */
export function pluginActor(o: PluginActorOptions): ActorSpecInput {
  const handler = o.handler ?? "handle";
  const policy = o.policy ?? new PolicyEngine([grantPolicy(o.id, o.grants ?? ["log"])]);
  const behaviour = defineActor<unknown, Sandbox>({
    async init(_args, ctx) {
      const host = await createPluginHost({
        actor: o.id,
        limits: o.manifest.limits,
        policy,
        ledger: o.ledger,
        runId: o.runId,
        messaging: {
          tell: (to, message) => ctx.tell(to, message),
          ask: (to, message, timeoutMs) => ctx.ask(to, message, { timeoutMs }),
          publish: (topic, message) => ctx.publish(topic, message),
        },
        log: (level, text) => ctx.log(text, level as "info"),
      });
      return await Sandbox.create(
        { ...o.manifest, exports: [...new Set([...o.manifest.exports, handler])] },
        { host, onLog: (level, text) => ctx.log(text, level === "error" ? "error" : "info") },
      );
    },
    async receive(message, ctx: ActorContext<Sandbox>) {
      let out: unknown;
      try {
        out = (await ctx.state.call(handler, { message })).json();
      } catch (err) {
        ctx.state.close(); // the restart starts a fresh instance; this one must not linger
        throw err;
      }
      const parsed = PluginReply.safeParse(out ?? {});
      if (!parsed.success) {
        throw new Error(
          `plugin "${o.manifest.name}" returned ${JSON.stringify(out).slice(0, 200)}, not ` +
            `{ reply?, send?: [{to, message}], publish?: [{topic, message}] }: ${
              z.prettifyError(parsed.error)
            }`,
        );
      }
      for (const s of parsed.data.send) ctx.tell(s.to, s.message);
      for (const p of parsed.data.publish) ctx.publish(p.topic, p.message);
      return parsed.data.reply;
    },
    terminate(ctx) {
      ctx.state.close();
    },
  });
  return {
    id: o.id,
    behaviour,
    isolation: "inline", // the plugin itself runs in its sandbox's worker
    capabilities: o.capabilities ?? [],
    subscriptions: o.subscriptions ?? [],
  };
}
