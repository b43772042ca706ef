/**
 * The polls plugin's server half. A poll belongs to a room and to the members it had when it
 * opened (its voters); it is kept in the store (polls, poll_votes) and, while open, in memory.
 * Results go to the voters online at most once a second per poll, and when it closes. An
 * anonymous poll's ballots are kept only while it is open (a vote may change until then):
 * when it closes they are deleted and only the counts stay, so nothing links a voter to a
 * choice afterwards, and no frame ever names an anonymous poll's voters.
 */
import { type ServerApi, type Session, Synced } from "../types.ts";
import type { Audience, RoomMembers, RoomRefresh, StaffRoles } from "../services.ts";
import {
  type Poll,
  PollsClose,
  PollsCreate,
  PollsList,
  PollsOpened,
  PollsResults,
  PollsVote,
} from "./protocol.ts";
import { MAX_OPEN_POLLS, MISSED_SHOWN, RESULTS_EVERY_MS } from "./options.ts";
import { type BallotRow, ballotsOf, base, type Open, readOpen, type Row } from "./state.ts";
import { pollsText } from "./server_text.ts";

export function pollsServer(api: ServerApi) {
  const open = new Map<number, Open>();
  const isStaff = (s: Session) => api.service<StaffRoles>("staff.roles")!.isStaff(s.name!);

  /** A poll as it is shown: counts, and who voted what unless it is anonymous. */
  const view = (p: Open): Poll => {
    const counts = p.options.map(() => 0);
    for (const b of p.ballots.values()) for (const c of b.choices) counts[c]++;
    const { electorate: _e, ballots, timer: _t, due: _d, ...shown } = p;
    const votes = p.anonymous ? undefined : [...ballots.values()];
    return { ...shown, counts, voters: ballots.size, ...(votes ? { votes } : {}) };
  };
  const closedView = (r: Row, votes?: Poll["votes"]): Poll => ({
    ...base(r),
    closed: true,
    counts: JSON.parse(r.counts ?? "[]"),
    voters: r.voted,
    ...(votes && !r.anonymous ? { votes } : {}),
  });
  /** To every voter online, on any node. */
  const toVoters = (p: Open, frame: typeof PollsOpened | typeof PollsResults, poll: Poll) => {
    for (const name of p.electorate) api.sendTo(name, frame, poll);
  };
  const results = (p: Open) => {
    if (p.due) return;
    p.due = setTimeout(() => {
      p.due = undefined;
      // In a cluster, the votes cast on other nodes too (fresh never throws).
      synced.fresh().then(() => {
        if (open.get(p.poll) === p) toVoters(p, PollsResults, view(p));
      }).catch((e) => api.log.error(`poll results: ${e}`));
    }, RESULTS_EVERY_MS);
  };

  async function close(p: Open): Promise<Poll> {
    clearTimeout(p.timer);
    clearTimeout(p.due);
    open.delete(p.poll);
    // In a cluster every node's timer fires at closesAt: the store lets one close it, and
    // counts the ballots as the store has them once the poll's row is locked by the close
    // (a vote on another node takes that lock too: it is counted, or refused POLL_CLOSED).
    const shown = await synced.write(() =>
      api.db.tx(async (tx) => {
        const { changes } = await tx.run(
          "UPDATE polls SET closed = 1, closed_at = ? WHERE id = ? AND closed = 0",
          [Date.now(), p.poll],
        );
        if (changes === 0) return undefined;
        p.ballots = ballotsOf(
          await tx.all<BallotRow>("SELECT voter, name, choices FROM poll_votes WHERE poll = ?", [
            p.poll,
          ]),
        );
        const shown = { ...view(p), closed: true };
        await tx.run("UPDATE polls SET counts = ?, voted = ? WHERE id = ?", [
          JSON.stringify(shown.counts),
          shown.voters,
          p.poll,
        ]);
        if (p.anonymous) await tx.run("DELETE FROM poll_votes WHERE poll = ?", [p.poll]);
        for (const voter of p.electorate) {
          if (api.sessions.online(voter)) continue;
          await tx.run("INSERT INTO poll_missed (account, poll) VALUES (?, ?)", [voter, p.poll]);
        }
        return shown;
      })
    );
    if (shown) toVoters(p, PollsResults, shown);
    return shown ?? { ...view(p), closed: true };
  }
  const schedule = (p: Open) => {
    if (p.closesAt === undefined) return;
    p.timer = setTimeout(() => {
      if (open.get(p.poll) === p) close(p).catch((e) => api.log.error(`closing a poll: ${e}`));
    }, Math.max(0, p.closesAt - Date.now()));
  };

  /** Memory as the store has it: polls opened elsewhere are scheduled, those closed
   *  elsewhere forgotten, and the ballots of those still open replaced. */
  const apply = (polls: Open[]) => {
    const seen = new Set<number>();
    for (const q of polls) {
      seen.add(q.poll);
      const p = open.get(q.poll);
      if (p) p.ballots = q.ballots;
      else {
        open.set(q.poll, q);
        schedule(q);
      }
    }
    for (const [id, p] of open) {
      if (!seen.has(id)) clearTimeout(p.timer), clearTimeout(p.due), open.delete(id);
    }
  };
  const synced = new Synced(api.bus, () => readOpen(api.db), apply, (e) => {
    api.log.error(`reading polls: ${e}`);
  });
  api.onStartup(async () => apply(await readOpen(api.db)));
  api.onShutdown(() => {
    for (const p of open.values()) clearTimeout(p.timer), clearTimeout(p.due);
  });
  // Members coming in see the polls still open for them, with the results so far, and the
  // results of those that closed while they were away.
  api.onLogin((s) => {
    const me = s.name!.toLowerCase();
    for (const p of open.values()) if (p.electorate.has(me)) api.send(s, PollsOpened, view(p));
    missed(s).catch((e) => api.log.error(`polls closed while ${s.name} was away: ${e}`));
  });
  /** The newest MISSED_SHOWN polls that closed while `s` was away, final, once each. Only
   *  the rows read are deleted (with the older ones past the limit), and only if the session
   *  is still there. */
  const missed = async (s: Session) => {
    const me = s.name!.toLowerCase();
    const rows = await api.db.all<Row>(
      "SELECT p.* FROM polls p JOIN poll_missed m ON m.poll = p.id WHERE m.account = ?" +
        " ORDER BY p.closed_at DESC, p.id DESC LIMIT ?",
      [me, MISSED_SHOWN],
    );
    if (rows.length === 0 || api.sessions.get(me) !== s) return;
    for (const r of rows.toReversed()) {
      const poll = closedView(r, r.anonymous ? undefined : await votesOf(r.id));
      const ts = r.closed_at ?? Date.now();
      api.relay([s], { type: PollsResults.type, ...poll, replay: "missed", ts });
    }
    await api.db.tx(async (tx) => {
      for (const r of rows) {
        await tx.run("DELETE FROM poll_missed WHERE account = ? AND poll = ?", [me, r.id]);
      }
      // Past the limit: older than the oldest shown (a poll closes once, so none is newer).
      await tx.run(
        "DELETE FROM poll_missed WHERE account = ? AND poll IN" +
          " (SELECT id FROM polls WHERE closed_at < ?)",
        [me, rows.at(-1)!.closed_at ?? 0],
      );
    });
  };

  api.on(PollsCreate, async (m, ctx) => {
    const by = ctx.session.name!;
    // In a cluster, members who joined on another node just now are voters too.
    await (api.service<RoomRefresh>("groups.fresh")?.(m.room) ?? Promise.resolve());
    // The room's rules for posting apply to students: a member, and not in an announce-only
    // room. Staff open polls in any room they are in.
    const { room, to } = isStaff(ctx.session)
      ? (({ room, members }) => ({ room, to: members }))(members(m.room, by))
      : api.service<Audience>("groups.audience")!(m.room, by);
    if (open.size >= MAX_OPEN_POLLS) ctx.fail("TOO_MANY_POLLS");
    const electorate = new Set([by, ...to].map((n) => n.toLowerCase()));
    const closesAt = m.closesIn === undefined ? undefined : Date.now() + m.closesIn * 1000;
    const { lastId } = await synced.write(() =>
      api.db.run(
        "INSERT INTO polls (room, author, question, options, anonymous, multi, voters," +
          " closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
          room,
          by,
          m.question,
          JSON.stringify(m.options),
          m.anonymous ? 1 : 0,
          m.multi ? 1 : 0,
          JSON.stringify([...electorate]),
          closesAt ?? null,
        ],
      )
    );
    const p: Open = {
      poll: lastId,
      room,
      by,
      question: m.question,
      options: m.options,
      anonymous: m.anonymous,
      multi: m.multi,
      closesAt,
      closed: false,
      electorate,
      ballots: new Map(),
    };
    open.set(p.poll, p);
    schedule(p);
    toVoters(p, PollsOpened, view(p));
    return { poll: p.poll };
  });

  api.on(PollsVote, async ({ poll, choices }, ctx) => {
    const p = await opened(poll) ??
      (await closedRow(poll) ? ctx.fail("POLL_CLOSED") : ctx.fail("NO_SUCH_POLL"));
    const me = ctx.session.name!.toLowerCase();
    if (!p.electorate.has(me)) ctx.fail("NOT_A_VOTER");
    const unique = [...new Set(choices)].sort((a, b) => a - b);
    if (unique.some((c) => c >= p.options.length) || (!p.multi && unique.length !== 1)) {
      ctx.fail("BAD_VOTE", p.multi ? "choose options by number" : "choose one option by number");
    }
    const ballot = { name: ctx.session.name!, choices: unique };
    const prior = p.ballots.get(me);
    p.ballots.set(me, ballot);
    // The poll's row is locked first (an update that changes nothing): a close on another
    // node either counts this vote or makes it POLL_CLOSED here, never drops it.
    const counted = await synced.write(() =>
      api.db.tx(async (tx) => {
        const open = await tx.run("UPDATE polls SET voted = voted WHERE id = ? AND closed = 0", [
          poll,
        ]);
        if (open.changes === 0) return false;
        await tx.run(
          "INSERT INTO poll_votes (poll, voter, name, choices) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (poll, voter) DO UPDATE SET choices = excluded.choices",
          [poll, me, ballot.name, JSON.stringify(unique)],
        );
        return true;
      })
    ).catch((e) => {
      if (p.ballots.get(me) === ballot) prior ? p.ballots.set(me, prior) : p.ballots.delete(me);
      throw e;
    });
    if (!counted) ctx.fail("POLL_CLOSED");
    results(p);
    return { poll };
  });

  api.on(PollsClose, async ({ poll }, ctx) => {
    const p = await opened(poll) ??
      (await closedRow(poll) ? ctx.fail("POLL_CLOSED") : ctx.fail("NO_SUCH_POLL"));
    const me = ctx.session.name!;
    // Its author, or staff in its room (staff powers are within the rooms they are in).
    if (p.by.toLowerCase() !== me.toLowerCase() && !(isStaff(ctx.session) && inRoom(p.room, me))) {
      ctx.fail("NOT_POLL_OWNER");
    }
    await close(p);
    return { poll };
  });

  // A room's polls, for its members: those they may vote in (staff: all of them).
  api.on(PollsList, async ({ room }, ctx) => {
    const me = ctx.session.name!.toLowerCase();
    const rows = await api.db.all<Row>(
      "SELECT * FROM polls WHERE lower(room) = lower(?) ORDER BY id DESC LIMIT 20",
      [members(room, me).room],
    );
    const mine = rows.filter((r) => JSON.parse(r.voters).includes(me) || isStaff(ctx.session));
    const polls: Poll[] = [];
    for (const r of mine) {
      const p = open.get(r.id);
      if (p) polls.push(view(p));
      else polls.push(closedView(r, r.anonymous ? undefined : await votesOf(r.id)));
    }
    return { polls };
  });

  const members = (room: string | undefined, me: string) =>
    api.service<RoomMembers>("groups.members")!(room, me);
  const inRoom = (room: string, me: string) => {
    try {
      return members(room, me) !== undefined;
    } catch {
      return false;
    }
  };
  /** An open poll; one opened on another node just now is read first. */
  const opened = async (id: number) => {
    if (!open.has(id)) await synced.fresh();
    return open.get(id);
  };
  const closedRow = (id: number) =>
    api.db.get<Row>("SELECT * FROM polls WHERE id = ? AND closed = 1", [id]);
  const votesOf = async (id: number) =>
    (await api.db.all<{ name: string; choices: string }>(
      "SELECT name, choices FROM poll_votes WHERE poll = ? ORDER BY name",
      [id],
    )).map((v) => ({ name: v.name, choices: JSON.parse(v.choices) as number[] }));

  pollsText(api);
}
