// A repository lint rule for the repo-ops agents.
// Input: {"files": [{"path": "…", "text": "…"}]}.
// Output: {"findings": [{"rule", "severity", "path", "line", "message"}]}.
// Rules: merge-conflict markers, committed private keys, stray debugger statements.
import { inputJson, outputJson, fail, Json } from "troupe";

function finding(rule: string, severity: string, path: string, line: i32, message: string): Json {
  return Json.obj().setString("rule", rule).setString("severity", severity)
    .setString("path", path).setNumber("line", <f64>line).setString("message", message);
}

function isCode(path: string): bool {
  return path.endsWith(".js") || path.endsWith(".ts") || path.endsWith(".jsx") || path.endsWith(".tsx") ||
    path.endsWith(".mjs") || path.endsWith(".cjs");
}

export function lint(): i32 {
  const input = inputJson();
  if (input === null) return fail("expected JSON input");
  const files = input.get("files");
  if (files === null) return fail("expected {\"files\": [{\"path\", \"text\"}]}");
  const findings = Json.arr();
  for (let f = 0; f < files.length; f++) {
    const file = files.at(f)!;
    const path = file.getString("path");
    const lines = file.getString("text").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith("<<<<<<< ") || line.startsWith(">>>>>>> ") || line == "=======") {
        findings.push(finding("conflict-marker", "high", path, i + 1, "unresolved merge-conflict marker"));
      }
      if (line.includes("-----BEGIN") && line.includes("PRIVATE KEY-----")) {
        findings.push(finding("private-key", "critical", path, i + 1, "a private key is committed"));
      }
      if (isCode(path) && line.trim() == "debugger;") {
        findings.push(finding("debugger", "low", path, i + 1, "debugger statement left in code"));
      }
    }
  }
  outputJson(Json.obj().set("findings", findings));
  return 0;
}
