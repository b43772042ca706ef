/**
 * The polls plugin's server half. A poll belongs to a room and to the members it had when it
 * opened (its voters); it is kept in the store (polls, poll_votes) and, while open, in memory.
 * Results go to the voters online at most once a second per poll, and when it closes. An
 * anonymous poll's ballots are kept only while it is open (a vote may change until then):
 * when it closes they are deleted and only the counts stay, so nothing links a voter to a
 * choice afterwards, and no frame ever names an anonymous poll's voters.
 */
import type { Audience, Migration, RoomMembers, ServerApi, Session, StaffRoles } from "../types.ts";
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
import { pollsText } from "./server_text.ts";

export const POLLS_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE polls (
      id INTEGER PRIMARY KEY,
      room TEXT NOT NULL,            -- as the room is named
      author TEXT NOT NULL,
      question TEXT NOT NULL,
      options TEXT NOT NULL,         -- JSON array of strings
      anonymous INTEGER NOT NULL,
      multi INTEGER NOT NULL,
      voters TEXT NOT NULL,          -- JSON array of the lower-cased names who may vote
      closes_at INTEGER,             -- ms since the epoch
      closed INTEGER NOT NULL DEFAULT 0,
      counts TEXT,                   -- JSON array, written when it closes
      voted INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE poll_votes (
      poll INTEGER NOT NULL,
      voter TEXT NOT NULL,           -- lower case, deleted at close for an anonymous poll
      name TEXT NOT NULL,
      choices TEXT NOT NULL,         -- JSON array of option numbers
      PRIMARY KEY (poll, voter));`,
}, {
  // Voters who were away when a poll closed: they are shown its results at their next login.
  sql: `
    CREATE TABLE poll_missed (
      account TEXT NOT NULL,         -- lower case
      poll INTEGER NOT NULL,
      PRIMARY KEY (account, poll));
    ALTER TABLE polls ADD COLUMN closed_at INTEGER`,
}];

interface Open extends Omit<Poll, "counts" | "voters" | "votes"> {
  electorate: Set<string>;
  ballots: Map<string, { name: string; choices: number[] }>;
  timer?: ReturnType<typeof setTimeout>;
  /** A results frame is due (coalesced: at most once per RESULTS_EVERY_MS). */
  due?: ReturnType<typeof setTimeout>;
}

type Row = {
  id: number;
  room: string;
  author: string;
  question: string;
  options: string;
  anonymous: number;
  multi: number;
  voters: string;
  closes_at: number | null;
  closed: number;
  closed_at: number | null;
  counts: string | null;
  voted: number;
};

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
  const toVoters = (p: Open, frame: typeof PollsOpened | typeof PollsResults, poll: Poll) => {
    for (const name of p.electorate) {
      const s = api.sessions.get(name);
      if (s) api.send(s, frame, poll);
    }
  };
  const results = (p: Open) => {
    if (p.due) return;
    p.due = setTimeout(() => {
      p.due = undefined;
      if (open.get(p.poll) === p) toVoters(p, PollsResults, view(p));
    }, RESULTS_EVERY_MS);
  };

  async function close(p: Open): Promise<Poll> {
    clearTimeout(p.timer);
    clearTimeout(p.due);
    open.delete(p.poll);
    const shown = { ...view(p), closed: true };
    await api.db.tx(async (tx) => {
      await tx.run(
        "UPDATE polls SET closed = 1, closed_at = ?, counts = ?, voted = ? WHERE id = ?",
        [Date.now(), JSON.stringify(shown.counts), shown.voters, p.poll],
      );
      if (p.anonymous) await tx.run("DELETE FROM poll_votes WHERE poll = ?", [p.poll]);
      for (const voter of p.electorate) {
        if (api.sessions.get(voter)) continue;
        await tx.run("INSERT INTO poll_missed (account, poll) VALUES (?, ?)", [voter, p.poll]);
      }
    });
    toVoters(p, PollsResults, shown);
    return shown;
  }
  const schedule = (p: Open) => {
    if (p.closesAt === undefined) return;
    p.timer = setTimeout(() => {
      if (open.get(p.poll) === p) close(p).catch((e) => api.log.error(`closing a poll: ${e}`));
    }, Math.max(0, p.closesAt - Date.now()));
  };

  api.onStartup(async () => {
    const rows = await api.db.all<Row>("SELECT * FROM polls WHERE closed = 0");
    for (const r of rows) {
      const votes = await api.db.all<{ voter: string; name: string; choices: string }>(
        "SELECT voter, name, choices FROM poll_votes WHERE poll = ?",
        [r.id],
      );
      const p: Open = {
        ...base(r),
        closed: false,
        electorate: new Set(JSON.parse(r.voters)),
        ballots: new Map(
          votes.map((v) => [v.voter, { name: v.name, choices: JSON.parse(v.choices) }]),
        ),
      };
      open.set(p.poll, p);
      schedule(p);
    }
  });
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
    // The room's rules for posting apply to students: a member, and not in an announce-only
    // room. Staff open polls in any room they are in.
    const { room, to } = isStaff(ctx.session)
      ? (({ room, members }) => ({ room, to: members }))(members(m.room, by))
      : api.service<Audience>("groups.audience")!(m.room, by);
    if (open.size >= MAX_OPEN_POLLS) ctx.fail("TOO_MANY_POLLS");
    const electorate = new Set([by, ...to].map((n) => n.toLowerCase()));
    const closesAt = m.closesIn === undefined ? undefined : Date.now() + m.closesIn * 1000;
    const { lastId } = await api.db.run(
      "INSERT INTO polls (room, author, question, options, anonymous, multi, voters, closes_at)" +
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    const p = open.get(poll) ??
      (await closedRow(poll) ? ctx.fail("POLL_CLOSED") : ctx.fail("NO_SUCH_POLL"));
    const me = ctx.session.name!.toLowerCase();
    if (!p.electorate.has(me)) ctx.fail("NOT_A_VOTER");
    const unique = [...new Set(choices)].sort((a, b) => a - b);
    if (unique.some((c) => c >= p.options.length) || (!p.multi && unique.length !== 1)) {
      ctx.fail("BAD_VOTE", p.multi ? "choose options by number" : "choose one option by number");
    }
    const ballot = { name: ctx.session.name!, choices: unique };
    p.ballots.set(me, ballot);
    await api.db.run(
      "INSERT INTO poll_votes (poll, voter, name, choices) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (poll, voter) DO UPDATE SET choices = excluded.choices",
      [poll, me, ballot.name, JSON.stringify(unique)],
    );
    results(p);
    return { poll };
  });

  api.on(PollsClose, async ({ poll }, ctx) => {
    const p = open.get(poll) ??
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
  const closedRow = (id: number) =>
    api.db.get<Row>("SELECT * FROM polls WHERE id = ? AND closed = 1", [id]);
  const votesOf = async (id: number) =>
    (await api.db.all<{ name: string; choices: string }>(
      "SELECT name, choices FROM poll_votes WHERE poll = ? ORDER BY name",
      [id],
    )).map((v) => ({ name: v.name, choices: JSON.parse(v.choices) as number[] }));

  pollsText(api);
}

function base(r: Row) {
  return {
    poll: r.id,
    room: r.room,
    by: r.author,
    question: r.question,
    options: JSON.parse(r.options) as string[],
    anonymous: r.anonymous === 1,
    multi: r.multi === 1,
    closesAt: r.closes_at ?? undefined,
  };
}
