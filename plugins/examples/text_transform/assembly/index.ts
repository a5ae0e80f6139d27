// Text transforms: {"op": "upper" | "lower" | "slug" | "title", "text": "…"} → {"text": "…"}.
// `transform` takes that input directly; `handle` is the same as a plugin agent.
import { inputJson, outputJson, fail, Json } from "troupe";

function isAlnum(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function slug(text: string): string {
  let out = "";
  let dash = false;
  const lower = text.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (isAlnum(c)) { out += String.fromCharCode(c); dash = false; }
    else if (!dash && out.length > 0) { out += "-"; dash = true; }
  }
  return dash ? out.substring(0, out.length - 1) : out;
}

function title(text: string): string {
  let out = "";
  let start = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    out += start ? ch.toUpperCase() : ch.toLowerCase();
    start = ch == " " || ch == "-" || ch == "_";
  }
  return out;
}

function apply(req: Json): string | null {
  const op = req.getString("op");
  const text = req.getString("text");
  if (op == "upper") return text.toUpperCase();
  if (op == "lower") return text.toLowerCase();
  if (op == "slug") return slug(text);
  if (op == "title") return title(text);
  return null;
}

export function transform(): i32 {
  const req = inputJson();
  if (req === null) return fail("expected JSON: {\"op\": …, \"text\": …}");
  const out = apply(req);
  if (out === null) return fail("unknown op \"" + req.getString("op") + "\"; use upper, lower, slug or title");
  outputJson(Json.obj().setString("text", out));
  return 0;
}

export function handle(): i32 {
  const input = inputJson();
  if (input === null) return fail("expected JSON input");
  const msg = input.get("message");
  if (msg === null) return fail("expected {\"message\": {\"op\", \"text\"}}");
  const out = apply(msg);
  if (out === null) return fail("unknown op \"" + msg.getString("op") + "\"");
  outputJson(Json.obj().set("reply", Json.obj().setString("text", out)));
  return 0;
}
