/// <reference lib="deno.worker" />
/**
 * Parses Mermaid diagrams with Mermaid's own parser, in a worker: Mermaid needs a DOM, which
 * jsdom provides here, in this worker's globals only (a `window` in the orchestrator's globals
 * would change how other libraries there behave).
 */
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
Object.assign(globalThis, { window: dom.window, document: dom.window.document });
const { default: mermaid } = await import("mermaid");

self.onmessage = async (e: MessageEvent<string[]>) => {
  const errors: (string | null)[] = [];
  for (const diagram of e.data) {
    try {
      await mermaid.parse(diagram);
      errors.push(null);
    } catch (err) {
      errors.push(String((err as Error).message ?? err).split("\n").slice(0, 3).join(" "));
    }
  }
  self.postMessage(errors);
};
self.postMessage("ready");
