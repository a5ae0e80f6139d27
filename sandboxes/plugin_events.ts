import { z } from "zod";
import { eventType } from "../ledger/mod.ts";

/** A plugin's key-value write, durable in the ledger and read back when its host is created. */
export const PluginKv = eventType("plugin_kv", z.object({ key: z.string(), value: z.unknown() }));

/** A host call the policy engine refused. */
export const PluginHostDenied = eventType(
  "plugin_host_denied",
  z.object({ fn: z.string(), resource: z.string(), reason: z.string() }),
);
