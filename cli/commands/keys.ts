import { DEFAULT_KEY_DIR, newKey, Role } from "../../policies/mod.ts";
import { defineCommand, JSON_FLAG } from "../command.ts";

export const keys = defineCommand({
  name: "keys",
  summary: "create signing keys for approvals and warrants",
  usage: `Usage: deno task keys new NAME --role approver|operator|admin [--dir DIR] [--json]

Creates an Ed25519 key pair. The private key is written to DIR/NAME.key.json (mode 600);
the public key and its role are added to DIR/trust.json, the list troupe trusts.
Approvers sign approvals; operators and admins also issue warrants.

Options:
  --role R     approver, operator or admin
  --dir DIR    the key folder (default ${DEFAULT_KEY_DIR})
  --json       print the result as JSON
  -h, --help   show this help`,
  flags: {
    role: { type: "string" },
    dir: { type: "string", default: DEFAULT_KEY_DIR },
    json: JSON_FLAG,
  },
  async run(flags, [sub, name], fail) {
    if (sub !== "new") return fail('the only subcommand is "new"');
    if (!name) return fail("give the key a NAME");
    const role = Role.safeParse(flags.role);
    if (!role.success) {
      return fail(`--role must be approver, operator or admin, not "${flags.role ?? ""}"`);
    }
    try {
      const result = await newKey(flags.dir, name, role.data);
      console.log(
        flags.json
          ? JSON.stringify({ name, role: role.data, ...result })
          : `created ${result.keyFile}; trusted in ${result.trustFile}`,
      );
      return 0;
    } catch (err) {
      console.error(`troupe keys: ${(err as Error).message}`);
      return 1;
    }
  },
});
