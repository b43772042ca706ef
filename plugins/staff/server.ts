/**
 * The staff plugin's server half. Named staff are kept in the store (staff_members) and in
 * memory; admins are always staff (api.accounts.isAdmin). The operator's `classchat admin
 * add-staff` writes the store beside a running server, which reads the account's row again
 * before its next login (onLoginLoad), as the core does for admin marks.
 */
import { type Migration, type ServerApi, type Session, Synced } from "../types.ts";
import type { StaffRoles } from "../services.ts";
import {
  type Member,
  StaffAdd,
  StaffChanged,
  staffChangedText,
  StaffList,
  StaffRemove,
  StaffRoster,
} from "./protocol.ts";

export const STAFF_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE staff_members (
      name_key TEXT PRIMARY KEY,     -- lower case
      name TEXT NOT NULL,            -- as registered
      named_by TEXT,                 -- the admin, or NULL for the operator's command
      named_at INTEGER NOT NULL)`,
}];

export function staffServer(api: ServerApi) {
  /** Named staff: lower-cased name -> name as registered. */
  const named = new Map<string, string>();
  /** Admins as this plugin last saw them (at start-up, or at their login). */
  const admins = new Map<string, string>();
  const isStaff = (name: string) => named.has(name.toLowerCase()) || api.accounts.isAdmin(name);
  /** Staff as everyone was last told (roster, staff.changed). */
  const told = (key: string) => named.has(key) || admins.has(key);
  api.provide<StaffRoles>("staff.roles", { isStaff });
  api.text.badge((name) => isStaff(name) ? "staff" : undefined);

  const roster = (): Member[] => {
    const all = new Map<string, Member>();
    for (const [key, name] of admins) {
      if (api.accounts.isAdmin(name)) all.set(key, { name, admin: true });
    }
    for (const [key, name] of named) if (!all.has(key)) all.set(key, { name, admin: false });
    return [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
  };
  const changed = (name: string, staff: boolean, by?: string) =>
    api.broadcast(StaffChanged, { name, staff, by });

  const readNamed = () =>
    api.db.all<{ name_key: string; name: string }>("SELECT name_key, name FROM staff_members");
  const applyNamed = (rows: Array<{ name_key: string; name: string }>) => {
    named.clear();
    for (const r of rows) named.set(r.name_key, r.name);
  };
  // In a cluster, a change made on another node (it tells everyone online itself).
  const synced = new Synced(api.bus, readNamed, applyNamed, (e) => {
    api.log.error(`reading staff again: ${e}`);
  });

  api.onStartup(async () => {
    applyNamed(await readNamed());
    for (const name of api.accounts.names()) {
      if (api.accounts.isAdmin(name)) admins.set(name.toLowerCase(), name);
    }
  });

  // Before the login: the operator may have named or removed this account (add-staff), or
  // made it an admin or not (add-admin), since the server last read it. Every login hook and
  // handler after this sees it as it is now, and everyone online is told of a change.
  api.onLoginLoad(async (name) => {
    const key = name.toLowerCase();
    const before = told(key);
    const row = await api.db.get<{ name: string }>(
      "SELECT name FROM staff_members WHERE name_key = ?",
      [key],
    );
    if (row) named.set(key, row.name);
    else named.delete(key);
    if (api.accounts.isAdmin(name)) admins.set(key, name);
    else admins.delete(key);
    if (told(key) !== before) {
      changed(name, !before);
      synced.announce(); // the operator's change: the other nodes read it too
    }
  });

  api.onLogin((s) => {
    if (s.mode === "json") api.send(s, StaffRoster, { staff: roster().map((m) => m.name) });
  });

  const mustBeAdmin = (s: Session, fail: (code: "ADMIN_ONLY") => never) => {
    if (!api.accounts.isAdmin(s.name!)) fail("ADMIN_ONLY");
  };

  api.on(StaffList, () => ({ staff: roster() }));

  // Memory changes before the first await, so two admins naming the same person at once get
  // one ack and one ALREADY_STAFF; a failed write puts it back.
  api.on(StaffAdd, async (m, ctx) => {
    mustBeAdmin(ctx.session, ctx.fail);
    const name = api.accounts.canonical(m.name) ?? ctx.fail("NO_SUCH_USER");
    const key = name.toLowerCase();
    if (isStaff(name)) ctx.fail("ALREADY_STAFF");
    const by = ctx.session.name!;
    named.set(key, name);
    try {
      await synced.write(() =>
        api.db.run(
          "INSERT INTO staff_members (name_key, name, named_by, named_at) VALUES (?, ?, ?, ?)" +
            " ON CONFLICT (name_key) DO NOTHING",
          [key, name, by, Date.now()],
        )
      );
    } catch (e) {
      named.delete(key);
      throw e;
    }
    changed(name, true, by);
    return { name };
  });

  api.on(StaffRemove, async (m, ctx) => {
    mustBeAdmin(ctx.session, ctx.fail);
    const name = api.accounts.canonical(m.name) ?? ctx.fail("NO_SUCH_USER");
    const key = name.toLowerCase();
    if (api.accounts.isAdmin(name)) ctx.fail("ALWAYS_STAFF");
    const was = named.get(key) ?? ctx.fail("NOT_STAFF");
    named.delete(key);
    try {
      await synced.write(() => api.db.run("DELETE FROM staff_members WHERE name_key = ?", [key]));
    } catch (e) {
      named.set(key, was);
      throw e;
    }
    changed(name, false, ctx.session.name!);
    return { name };
  });

  staffText(api);
}

function staffText(api: ServerApi) {
  api.text.command({
    usage: "server:staff",
    summary: "who is staff (server admins and the people they name)",
    match: /^(?:server:|\/)staff$/i,
    toFrame: () => ({ type: StaffList.type }),
    ack: (r) => {
      const { staff } = StaffList.decodeAck(r);
      if (staff.length === 0) return "no staff yet";
      return "staff: " + staff.map((m) => m.admin ? `${m.name} (admin)` : m.name).join(", ");
    },
  });
  api.text.command({
    usage: "server:staff add|remove <user>",
    summary: "name someone staff, or no longer (admins)",
    match: /^(?:server:|\/)staff\s+(add|remove)\s+(\S+)$/i,
    toFrame: (m) => ({
      type: m[1].toLowerCase() === "add" ? StaffAdd.type : StaffRemove.type,
      name: m[2],
    }),
  });
  api.text.render(StaffChanged, (m) => `* ${staffChangedText(m)}`);
}
