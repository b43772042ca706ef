/**
 * The queue plugin's server half: one office-hours queue per server, in the store (so it
 * survives a restart) and in memory. A student who drops keeps their place for --queue-grace: /next
 * passes over (and removes) anyone gone longer. Waits are estimated from the last services
 * (their median length) times the places ahead.
 */
import { type ServerApi, type Session, Synced } from "../types.ts";
import type { StaffRoles } from "../services.ts";
import {
  QueueClose,
  QueueClosed,
  QueueDone,
  QueueJoin,
  QueueLeave,
  QueueMoved,
  QueueNext,
  QueueOpen,
  QueueReady,
  QueueStats,
  QueueStatus,
  QueueWaiting,
} from "./protocol.ts";
import { queueText } from "./server_text.ts";
import { QUEUE_GRACE } from "./options.ts";
import { type Entry, type QueueRead, readQueue, RECENT_SERVICES } from "./state.ts";

export function queueServer(api: ServerApi) {
  const graceMs = api.setting(QUEUE_GRACE);
  const line = new Map<string, Entry>(); // lower-cased account, in the order joined
  /** Staff (lower case) -> whom they are helping, and since when (the row to finish). */
  const helping = new Map<string, { name: string; since: number; by: string }>();
  let open = false;
  let room: string | undefined;
  const recent: number[] = []; // the last service lengths, ms
  const roles = () => api.service<StaffRoles>("staff.roles")!;
  const isStaff = (s: Session) => roles().isStaff(s.name!);
  /** Staff online, on any node of a cluster, by name (told with api.sendTo). */
  const staff = () => api.sessions.everyone().filter((n) => roles().isStaff(n));

  const median = () => {
    if (recent.length === 0) return undefined;
    const s = recent.toSorted((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  const positionOf = (key: string) => [...line.keys()].indexOf(key) + 1;
  /** The places ahead (and the one being helped now, if any) times a typical service. */
  const waitFor = (position: number) => {
    const m = median();
    return m === undefined ? undefined : m * (position - 1 + (helping.size > 0 ? 1 : 0));
  };
  /** Everyone still waiting hears their new place. */
  const tellPlaces = () => {
    let position = 0;
    for (const [, e] of line) {
      position++;
      api.sendTo(e.name, QueueMoved, { position, waitMs: waitFor(position) });
    }
  };
  const staffOnly = (s: Session, fail: (code: "STAFF_ONLY") => never) => {
    if (!isStaff(s)) fail("STAFF_ONLY");
  };

  const apply = ({ state, rows, served }: QueueRead) => {
    open = state?.open === 1;
    room = state?.room ?? undefined;
    // Someone not online anywhere has the grace period from when this node first saw them
    // gone (from now, after a restart) to come back.
    const now = Date.now();
    const before = new Map(line);
    line.clear();
    for (const r of rows) {
      const key = r.name.toLowerCase();
      const goneAt = api.sessions.online(r.name) ? undefined : before.get(key)?.goneAt ?? now;
      line.set(key, { name: r.name, topic: r.topic ?? undefined, joinedAt: r.joined_at, goneAt });
    }
    recent.length = 0;
    recent.push(...served.map((r) => r.served_ms).reverse());
  };
  // In a cluster, the queue as another node changed it.
  const synced = new Synced(
    api.bus,
    () => readQueue(api.db),
    apply,
    (e) => api.log.error(`reading queue: ${e}`),
  );
  api.onStartup(async () => apply(await readQueue(api.db)));

  api.onLogin((s) => {
    const e = line.get(s.name!.toLowerCase());
    if (e) {
      e.goneAt = undefined;
      const position = positionOf(s.name!.toLowerCase());
      api.send(s, QueueMoved, { position, waitMs: waitFor(position) });
    }
    if (isStaff(s) && line.size > 0) api.send(s, QueueWaiting, { count: line.size });
  });
  api.onLogout((s) => {
    const e = line.get(s.name!.toLowerCase());
    if (e) e.goneAt = Date.now();
  });

  const saveState = () =>
    api.db.run(
      "INSERT INTO queue_state (id, open, room) VALUES (1, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET open = excluded.open, room = excluded.room",
      [open ? 1 : 0, room ?? null],
    );

  api.on(QueueOpen, async (m, ctx) => {
    staffOnly(ctx.session, ctx.fail);
    open = true;
    room = m.room?.replace(/^[#@]/, "");
    await synced.write(saveState);
  });

  api.on(QueueClose, async (_m, ctx) => {
    staffOnly(ctx.session, ctx.fail);
    open = false;
    const left = [...line.values()];
    line.clear();
    await synced.write(() =>
      api.db.tx(async (tx) => {
        // The state row first: a join on another node waits for it (see QueueJoin).
        await tx.run("UPDATE queue_state SET open = 0 WHERE id = 1");
        await tx.run("DELETE FROM queue_entries");
      })
    );
    for (const e of left) api.sendTo(e.name, QueueClosed, {});
    return { left: left.length };
  });

  api.on(QueueJoin, async ({ topic }, ctx) => {
    if (!open) await synced.fresh(); // opened on another node just now?
    if (!open) ctx.fail("QUEUE_CLOSED");
    const name = ctx.session.name!;
    const key = name.toLowerCase();
    const prior = line.get(key);
    const entry = { name, topic, joinedAt: prior?.joinedAt ?? Date.now() };
    line.set(key, entry);
    // The queue's state row is locked first (an update that changes nothing): a close on
    // another node either removes this entry too or makes this join QUEUE_CLOSED.
    const joined = await synced.write(() =>
      api.db.tx(async (tx) => {
        const st = await tx.run("UPDATE queue_state SET open = open WHERE id = 1 AND open = 1");
        if (st.changes === 0) return false;
        await tx.run(
          "INSERT INTO queue_entries (account, name, topic, joined_at) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (account) DO UPDATE SET topic = excluded.topic",
          [key, name, topic ?? null, entry.joinedAt],
        );
        return true;
      })
    );
    if (!joined) {
      open = false;
      if (prior) line.set(key, prior);
      else line.delete(key);
      ctx.fail("QUEUE_CLOSED");
    }
    await synced.fresh(); // students who joined on other nodes meanwhile are ahead
    if (!prior) { for (const n of staff()) api.sendTo(n, QueueWaiting, { count: line.size }); }
    const position = positionOf(key);
    return { position, waitMs: waitFor(position) };
  });

  api.on(QueueLeave, async (_m, ctx) => {
    const key = ctx.session.name!.toLowerCase();
    if (!line.has(key)) await synced.fresh(); // joined on another node just now?
    if (!line.delete(key)) ctx.fail("NOT_QUEUED");
    await synced.write(() => api.db.run("DELETE FROM queue_entries WHERE account = ?", [key]));
    tellPlaces();
  });

  api.on(QueueStatus, (_m, ctx) => {
    const position = positionOf(ctx.session.name!.toLowerCase()) || undefined;
    return {
      open,
      room,
      waiting: line.size,
      position,
      waitMs: position === undefined ? undefined : waitFor(position),
    };
  });

  api.on(QueueNext, async (_m, ctx) => {
    staffOnly(ctx.session, ctx.fail);
    const me = ctx.session.name!;
    await finish(me);
    await synced.fresh(); // someone who joined on another node just now may be next
    const now = Date.now();
    // The first in line still here (or back within the grace period); anyone gone longer is
    // passed over and removed. The store decides who is taken: one another node's staff
    // took at the same moment (its row already gone) is passed over here.
    let next: Entry | undefined;
    for (const [key, e] of line) {
      line.delete(key);
      const { changes } = await synced.write(() =>
        api.db.run("DELETE FROM queue_entries WHERE account = ?", [key])
      );
      if (changes > 0 && (e.goneAt === undefined || now - e.goneAt < graceMs)) {
        next = e;
        break;
      }
    }
    if (!next) return ctx.fail("QUEUE_EMPTY");
    const waitedMs = now - next.joinedAt;
    await synced.write(() =>
      api.db.run(
        "INSERT INTO queue_served (name, by, waited_ms, at) VALUES (?, ?, ?, ?)",
        [next.name, me, waitedMs, now],
      )
    );
    helping.set(me.toLowerCase(), { name: next.name, since: now, by: me });
    api.sendTo(next.name, QueueReady, { by: me, room });
    tellPlaces();
    return { name: next.name, topic: next.topic, waitedMs };
  });

  /** Ends `staffName`'s current help, if any: its length counts for the wait estimates. */
  async function finish(staffName: string) {
    const h = helping.get(staffName.toLowerCase());
    if (!h) return undefined;
    helping.delete(staffName.toLowerCase());
    const ms = Date.now() - h.since;
    recent.push(ms);
    if (recent.length > RECENT_SERVICES) recent.shift();
    // The row is the help's: who helped whom, from when (no rowid: the store may be PostgreSQL).
    await synced.write(() =>
      api.db.run(
        "UPDATE queue_served SET served_ms = ? WHERE by = ? AND name = ? AND at = ?",
        [ms, h.by, h.name, h.since],
      )
    );
    return { name: h.name, ms };
  }

  api.on(QueueDone, async (_m, ctx) => {
    staffOnly(ctx.session, ctx.fail);
    const done = await finish(ctx.session.name!) ?? ctx.fail("NOT_HELPING");
    return { name: done.name, minutes: Math.round(done.ms / 60_000) };
  });

  api.on(QueueStats, async (_m, ctx) => {
    staffOnly(ctx.session, ctx.fail);
    const day = new Date();
    day.setUTCHours(0, 0, 0, 0);
    const rows = await api.db.all<{ waited_ms: number }>(
      "SELECT waited_ms FROM queue_served WHERE at >= ? ORDER BY waited_ms",
      [day.getTime()],
    );
    const waits = rows.map((r) => r.waited_ms);
    return {
      served: waits.length,
      waiting: line.size,
      medianWaitMs: waits.length ? waits[Math.floor(waits.length / 2)] : undefined,
      maxWaitMs: waits.length ? waits[waits.length - 1] : undefined,
    };
  });

  queueText(api);
}
