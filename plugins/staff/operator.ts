/** The staff plugin's operator commands, run on the server's machine:
 *
 *   classchat admin add-staff <name> [--data DIR]
 *   classchat admin remove-staff <name> [--data DIR]
 *   classchat admin list-staff [--data DIR]
 *
 * Staff are named as accounts, never as names: the account must exist (its owner logged in
 * once), or the name would belong to whoever registered it first. */
import type { OperatorCommand } from "../types.ts";

const APPLIED = "a running server applies it at that account's next login";

export const STAFF_OPERATOR: OperatorCommand[] = [
  {
    name: "add-staff",
    argument: "name",
    summary: "make the account <name> staff (it must exist: its owner has logged in once)",
    async run({ db, account }, arg) {
      const name = await account(arg!);
      if (!name) throw new Error(`no account named "${arg}": they must log in once first`);
      const { changes } = await db.run(
        "INSERT INTO staff_members (name_key, name, named_by, named_at) VALUES (?, ?, NULL, ?)" +
          " ON CONFLICT (name_key) DO NOTHING",
        [name.toLowerCase(), name, Date.now()],
      );
      if (changes === 0) return [`${name} is staff already`];
      return [`${name} is now staff`, APPLIED];
    },
  },
  {
    name: "remove-staff",
    argument: "name",
    summary: "make the account <name> no longer staff (server admins stay staff)",
    async run({ db }, arg) {
      const row = await db.get<{ name: string }>(
        "SELECT name FROM staff_members WHERE name_key = ?",
        [arg!.toLowerCase()],
      );
      if (!row) throw new Error(`"${arg}" is not named staff`);
      await db.run("DELETE FROM staff_members WHERE name_key = ?", [arg!.toLowerCase()]);
      return [`${row.name} is no longer staff`, APPLIED];
    },
  },
  {
    name: "list-staff",
    summary: "the accounts named staff (server admins are staff too)",
    async run({ db }) {
      const rows = await db.all<{ name: string; named_by: string | null; named_at: number }>(
        "SELECT name, named_by, named_at FROM staff_members ORDER BY name_key",
      );
      if (rows.length === 0) return ["no accounts are named staff"];
      return rows.map((r) => {
        const when = new Date(r.named_at).toISOString().slice(0, 16).replace("T", " ");
        return `${r.name} (named ${when} UTC by ${r.named_by ?? "the operator"})`;
      });
    },
  },
];
