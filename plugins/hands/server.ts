/** The hands plugin's server half: the line of raised hands, in the store and in memory. */
import { type Migration, type ServerApi, type Session, Synced } from "../types.ts";
import type { StaffRoles } from "../services.ts";
import {
  type Hand,
  handLine,
  HandsList,
  HandsLower,
  HandsLowered,
  HandsRaise,
  HandsRaised,
  HandsWaiting,
} from "./protocol.ts";
import { MAX_HANDS } from "./options.ts";
import { utcTime } from "../../protocol/words.ts";

export const HANDS_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE hands_raised (
      account TEXT PRIMARY KEY,      -- lower case
      name TEXT NOT NULL,            -- as registered
      topic TEXT,
      ts INTEGER NOT NULL)           -- ms since the epoch, raised`,
}];

type Raised = Omit<Hand, "position">;

export function handsServer(api: ServerApi) {
  const max = api.setting(MAX_HANDS);
  /** Lower-cased account -> its hand, in the order raised (a Map keeps insertion order). */
  const line = new Map<string, Raised>();
  const roles = () => api.service<StaffRoles>("staff.roles")!;
  const isStaff = (s: Session) => roles().isStaff(s.name!);
  /** Staff online, on any node of a cluster, by name (told with api.sendTo). */
  const staffOnline = () => api.sessions.everyone().filter((n) => roles().isStaff(n));
  const positionOf = (key: string) => [...line.keys()].indexOf(key) + 1;
  /** Puts a hand back in its place (by when it was raised) after a failed write. */
  const restore = (key: string, hand: Raised) => {
    const all = [...line, [key, hand] as const].sort(([, a], [, b]) => a.ts - b.ts);
    line.clear();
    for (const [k, h] of all) line.set(k, h);
  };
  const listed = () => [...line.values()].map((h, i) => ({ ...h, position: i + 1 }));

  const read = () =>
    api.db.all<{ name: string; topic: string | null; ts: number }>(
      "SELECT name, topic, ts FROM hands_raised ORDER BY ts, account",
    );
  const apply = (rows: Awaited<ReturnType<typeof read>>) => {
    line.clear();
    for (const r of rows) {
      line.set(r.name.toLowerCase(), { name: r.name, topic: r.topic ?? undefined, ts: r.ts });
    }
  };
  // In a cluster, the line as another node changed it.
  const synced = new Synced(api.bus, read, apply, (e) => api.log.error(`reading hands: ${e}`));
  api.onStartup(async () => apply(await read()));

  // Staff coming in learn how many are waiting; the list is theirs to ask for.
  api.onLogin((s) => {
    if (line.size > 0 && isStaff(s)) api.send(s, HandsWaiting, { count: line.size });
  });

  api.on(HandsRaise, async ({ topic }, ctx) => {
    const name = ctx.session.name!;
    const key = name.toLowerCase();
    const prior = line.get(key);
    if (!prior && line.size >= max) ctx.fail("TOO_MANY_HANDS");
    // Raised again: the topic changes, the place in line does not. The line changes before
    // the write (no await in between with the check above) and is put back if it fails.
    const hand = { name, topic, ts: prior?.ts ?? Date.now() };
    line.set(key, hand);
    let position = positionOf(key);
    try {
      await synced.write(() =>
        api.db.run(
          "INSERT INTO hands_raised (account, name, topic, ts) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (account) DO UPDATE SET topic = excluded.topic",
          [key, name, topic ?? null, hand.ts],
        )
      );
    } catch (e) {
      if (line.get(key) === hand && prior) line.set(key, prior);
      else if (line.get(key) === hand) line.delete(key);
      throw e;
    }
    // Hands raised on other nodes meanwhile are ahead of it.
    await synced.fresh();
    position = positionOf(key) || position;
    // Lowered while it was written: staff were told of that; the raise still succeeded.
    if (line.has(key)) {
      for (const n of staffOnline()) {
        if (n !== name) api.sendTo(n, HandsRaised, { ...hand, position });
      }
    }
    return { position };
  });

  api.on(HandsLower, async ({ name }, ctx) => {
    const me = ctx.session;
    const key = (name ?? me.name!).toLowerCase();
    if (key !== me.name!.toLowerCase() && !isStaff(me)) ctx.fail("STAFF_ONLY");
    if (!line.has(key)) await synced.fresh(); // raised on another node just now?
    const hand = line.get(key);
    if (!hand) {
      return ctx.fail("HAND_NOT_RAISED", `${name ? `${name}'s` : "your"} hand is not raised`);
    }
    line.delete(key);
    try {
      await synced.write(() => api.db.run("DELETE FROM hands_raised WHERE account = ?", [key]));
    } catch (e) {
      if (!line.has(key)) restore(key, hand);
      throw e;
    }
    const told = new Set([...staffOnline(), hand.name]);
    told.delete(me.name!);
    for (const n of told) api.sendTo(n, HandsLowered, { name: hand.name, by: me.name! });
    return { name: hand.name };
  });

  // Staff see the whole line; anyone else only their own place in it.
  api.on(HandsList, async (_m, ctx) => {
    await synced.fresh(); // in a cluster, hands raised on other nodes just now too
    const all = listed();
    if (isStaff(ctx.session)) return { hands: all };
    return { hands: all.filter((h) => h.name.toLowerCase() === ctx.session.name!.toLowerCase()) };
  });

  api.text.command({
    usage: "server:hand [topic]",
    summary: "raise your hand for the staff (server:hand down lowers it)",
    match: /^(?:server:|\/)hand(?:\s+(\S.*))?$/i,
    toFrame: (m) =>
      m[1]?.trim().toLowerCase() === "down"
        ? { type: HandsLower.type }
        : { type: HandsRaise.type, ...(m[1] ? { topic: m[1].trim() } : {}) },
    ack: (r) => r.position === undefined ? "hand lowered" : `hand raised (${r.position} in line)`,
  });
  api.text.command({
    usage: "server:hands",
    summary: "the raised hands (staff: all of them)",
    match: /^(?:server:|\/)hands$/i,
    toFrame: () => ({ type: HandsList.type }),
    ack: (r) => {
      const hands = HandsList.decodeAck(r).hands;
      if (hands.length === 0) return "no hands raised";
      return hands.map((h) => handLine(h, utcTime)).join("\n");
    },
  });
  api.text.command({
    usage: "server:lower <user>",
    summary: "lower someone's hand (staff)",
    match: /^(?:server:|\/)lower\s+(\S+)$/i,
    toFrame: (m) => ({ type: HandsLower.type, name: m[1] }),
    ack: (r) => `lowered ${r.name}'s hand`,
  });
  api.text.render(
    HandsRaised,
    (h) =>
      `* ${api.text.name(h.name)} raised a hand (${h.position} in line)` +
      (h.topic ? `: ${h.topic}` : ""),
  );
  api.text.render(
    HandsLowered,
    (m) => `* ${api.text.name(m.by)} lowered ${api.text.name(m.name)}'s hand`,
  );
  api.text.render(
    HandsWaiting,
    (m) => `* ${m.count} ${m.count === 1 ? "hand" : "hands"} raised; server:hands lists them`,
  );
}
