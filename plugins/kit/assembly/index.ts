// troupe's plugin kit for AssemblyScript: input and output, JSON, and troupe's host functions.
// Build with `deno task plugin build DIR`, which links this kit as "troupe".
import { Host, Memory, Config, Var } from "@extism/as-pdk";
import { Json, JsonKind, quote } from "./json";

export { Host, Memory, Config, Var, Json, JsonKind, quote };

@external("extism:host/env", "length") declare function extism_length(offset: u64): u64;
@external("extism:host/env", "log_error") declare function extism_log_error(offset: u64): void;
@external("extism:host/env", "error_set") declare function extism_error_set(offset: u64): void;

/** The call's input as text. */
export function input(): string { return Host.inputString(); }

/** The call's input as JSON (null when it is not JSON). */
export function inputJson(): Json | null { return Json.parse(Host.inputString()); }

// Host.outputString in @extism/as-pdk 1.0.0 sizes its buffer in UTF-16 units, not bytes, and
// fails on non-ASCII text; encoding first avoids it.
export function output(text: string): void { Host.output(Uint8Array.wrap(String.UTF8.encode(text))); }
export function outputJson(value: Json): void { output(value.toString()); }

/** Fails the call with a message; return the 1 it gives from your exported function. */
export function fail(message: string): i32 {
  extism_error_set(Memory.allocateString(message).offset);
  return 1;
}

/** What a troupe host function answered: a value, or the reason it refused. */
export class HostResult {
  constructor(public value: Json | null, public error: string | null) {}
  get ok(): bool { return this.error === null; }
}

function callHost(offset: u64): HostResult {
  const reply = new Memory(offset, extism_length(offset)).toString();
  const j = Json.parse(reply);
  if (j === null) return new HostResult(null, "host returned invalid JSON");
  const err = j.get("error");
  if (err !== null) return new HostResult(null, err.kind == JsonKind.Str ? err.s : err.toString());
  return new HostResult(j.get("ok"), null);
}

function request(body: Json): u64 { return Memory.allocateString(body.toString()).offset; }

@external("troupe", "log") declare function troupe_log(req: u64): u64;
@external("troupe", "emit") declare function troupe_emit(req: u64): u64;
@external("troupe", "ask") declare function troupe_ask(req: u64): u64;
@external("troupe", "sql") declare function troupe_sql(req: u64): u64;
@external("troupe", "kv_get") declare function troupe_kv_get(req: u64): u64;
@external("troupe", "kv_set") declare function troupe_kv_set(req: u64): u64;
@external("troupe", "http_fetch") declare function troupe_http_fetch(req: u64): u64;
@external("troupe", "read_file") declare function troupe_read_file(req: u64): u64;

// Each wrapper is linked only when a plugin calls it, so a plugin imports only what it uses
// (and must list exactly that in its manifest's hostFunctions).

export function log(message: string, level: string = "info"): HostResult {
  return callHost(troupe_log(request(Json.obj().setString("level", level).setString("message", message))));
}
/** Sends a message to an actor. */
export function tell(to: string, message: Json): HostResult {
  return callHost(troupe_emit(request(Json.obj().setString("to", to).set("message", message))));
}
/** Publishes a message on a topic. */
export function publish(topic: string, message: Json): HostResult {
  return callHost(troupe_emit(request(Json.obj().setString("topic", topic).set("message", message))));
}
/** Asks an actor and waits for its reply (bounded by the plugin's time limit). */
export function ask(to: string, message: Json): HostResult {
  return callHost(troupe_ask(request(Json.obj().setString("to", to).set("message", message))));
}
/** One read-only SELECT over the ledger: {columns, rows, truncated}. */
export function sql(query: string): HostResult {
  return callHost(troupe_sql(request(Json.obj().setString("query", query))));
}
/** This plugin's own durable key-value state. */
export function kvGet(key: string): HostResult {
  return callHost(troupe_kv_get(request(Json.obj().setString("key", key))));
}
export function kvSet(key: string, value: Json): HostResult {
  return callHost(troupe_kv_set(request(Json.obj().setString("key", key).set("value", value))));
}
/** GET (or another method) to an allowed host: {status, headers, body}. */
export function httpFetch(url: string, method: string = "GET", body: string = ""): HostResult {
  const req = Json.obj().setString("url", url).setString("method", method);
  if (body.length > 0) req.setString("body", body);
  return callHost(troupe_http_fetch(request(req)));
}
/** Reads a text file below one of the plugin's allowed paths. */
export function readFile(path: string): HostResult {
  return callHost(troupe_read_file(request(Json.obj().setString("path", path))));
}

/** AssemblyScript's abort: says what failed and where, then traps. */
export function troupeAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  const text = "abort: " + (message === null ? "" : message) + " at " +
    (file === null ? "?" : file) + ":" + line.toString() + ":" + column.toString();
  extism_log_error(Memory.allocateString(text).offset);
  unreachable();
}
