/**
 * The host functions troupe offers plugins, in the `troupe` import namespace. Each takes the
 * Extism memory offset of a JSON request and returns the offset of `{"ok": …}` or `{"error": …}`.
 */
export const HOST_FUNCTION_NAMES = [
  "log",
  "emit",
  "ask",
  "sql",
  "kv_get",
  "kv_set",
  "http_fetch",
  "read_file",
] as const;
/** The name of a host function troupe offers plugins. */
export type HostFunctionName = typeof HOST_FUNCTION_NAMES[number];

export const HOST_NAMESPACE = "troupe";
