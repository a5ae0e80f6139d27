// A policy check written as a plugin: decides one action request.
// Input: {"action", "resource", "force"?, "command"?}. Output: {"effect": "allow" | "deny", "reason"}.
// Protected branches come from the plugin's config ("protected_branches", comma-separated).
import { inputJson, outputJson, fail, Json, Config } from "troupe";

function decision(effect: string, reason: string): i32 {
  outputJson(Json.obj().setString("effect", effect).setString("reason", reason));
  return 0;
}

export function check(): i32 {
  const req = inputJson();
  if (req === null) return fail("expected a JSON action request");
  const action = req.getString("action");
  const resource = req.getString("resource");
  if (action == "git.push" && req.getBool("force")) {
    const configured = Config.get("protected_branches");
    const branches = (configured === null ? "main,master" : configured).split(",");
    for (let i = 0; i < branches.length; i++) {
      const b = branches[i].trim();
      if (resource == b || resource == "refs/heads/" + b) {
        return decision("deny", "force-push to protected branch " + b);
      }
    }
  }
  if (action == "fs.write" && (resource.startsWith(".git/") || resource.includes("/.git/") || resource.includes(".."))) {
    return decision("deny", "writes into .git or outside the workspace are not allowed: " + resource);
  }
  if (action == "proc.run") {
    const cmd = req.getString("command");
    if (cmd.includes("| sh") || cmd.includes("| bash") || cmd.includes("rm -rf /")) {
      return decision("deny", "command pipes a download into a shell or deletes the root");
    }
  }
  return decision("allow", "no check objects");
}
