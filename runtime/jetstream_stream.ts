import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";

/**
 * Makes a JetStream stream when the server has none of that name, and uses it as it is when it
 * has: every node of a cluster calls this, the first one makes it. Two nodes starting together
 * may both try to make it; the one refused finds the other's.
 */
export async function ensureStream(
  nc: NatsConnection,
  config: Partial<StreamConfig> & { name: string },
): Promise<string> {
  const jsm = await jetstreamManager(nc);
  const exists = () => jsm.streams.info(config.name).then(() => true, () => false);
  if (await exists()) return config.name;
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!(await exists())) throw err;
  }
  return config.name;
}
