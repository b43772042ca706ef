/**
 * The questions plugin's server half. Every question frame is made for its reader (view): an
 * anonymous question's author is named only to staff, so the name never leaves the server to a
 * student's session, in pushes, lists or plain text (which renders the same frames).
 */
import type { Migration, ServerApi, Session } from "../types.ts";
import type { RoomMembers, RoomRefresh, StaffRoles } from "../services.ts";
import {
  type Question,
  QuestionsAnswer,
  QuestionsAsk,
  QuestionsAsked,
  QuestionsDelete,
  QuestionsList,
  QuestionsReopen,
  QuestionsResolve,
  QuestionsUpdated,
  QuestionsUpvote,
} from "./protocol.ts";
import { questionsText } from "./server_text.ts";
import { MISSED_SHOWN } from "./options.ts";

export const QUESTIONS_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE questions (
      id INTEGER PRIMARY KEY,
      room TEXT NOT NULL,
      author TEXT NOT NULL,
      anonymous INTEGER NOT NULL,
      text TEXT NOT NULL,
      ts INTEGER NOT NULL,
      votes INTEGER NOT NULL DEFAULT 0,
      answer TEXT,
      answered_by TEXT,
      resolved INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE question_votes (
      question INTEGER NOT NULL,
      voter TEXT NOT NULL,
      PRIMARY KEY (question, voter))`,
}, {
  // Members who were away when a question was asked or changed: shown at their next login,
  // once per question, as it is then (kind: the first frame they missed; at: the last change).
  sql: `
    CREATE TABLE question_missed (
      account TEXT NOT NULL,         -- lower case
      question INTEGER NOT NULL,
      kind TEXT NOT NULL,
      at INTEGER NOT NULL,           -- ms since the epoch
      PRIMARY KEY (account, question))`,
}];

type Row = {
  id: number;
  room: string;
  author: string;
  anonymous: number;
  text: string;
  ts: number;
  votes: number;
  answer: string | null;
  answered_by: string | null;
  resolved: number;
  deleted: number;
};

type Told = typeof QuestionsAsked | typeof QuestionsUpdated;

/** What a tombstone says in place of a deleted question. */
const DELETED = "[deleted by staff]";

export function questionsServer(api: ServerApi) {
  const isStaff = (s: Session) => api.service<StaffRoles>("staff.roles")!.isStaff(s.name!);
  const members = (room: string | undefined, me: string) =>
    api.service<RoomMembers>("groups.members")!(room, me);
  const fresh = (room: string) =>
    api.service<RoomRefresh>("groups.fresh")?.(room) ?? Promise.resolve();

  /** The question as `reader` may see it. */
  const view = (r: Row, reader: string): Question => {
    const staff = api.service<StaffRoles>("staff.roles")!.isStaff(reader);
    const mine = r.author.toLowerCase() === reader.toLowerCase();
    const hidden = r.anonymous === 1 && !staff;
    const byAsker = r.answered_by?.toLowerCase() === r.author.toLowerCase();
    return {
      question: r.id,
      room: r.room,
      ...(hidden ? {} : { by: r.author }),
      anonymous: r.anonymous === 1,
      ...(r.anonymous === 1 && mine ? { mine: true } : {}),
      text: r.deleted ? DELETED : r.text,
      ts: r.ts,
      votes: r.votes,
      ...(r.answer && !r.deleted ? { answer: r.answer } : {}),
      ...(r.answered_by && !r.deleted && !(hidden && byAsker) ? { answeredBy: r.answered_by } : {}),
      resolved: r.resolved === 1,
      deleted: r.deleted === 1,
    };
  };
  const row = async (id: number, fail: (code: "NO_SUCH_QUESTION") => never) =>
    await api.db.get<Row>("SELECT * FROM questions WHERE id = ?", [id]) ?? fail("NO_SUCH_QUESTION");
  /** Tells the room's members online (on any node), each their own view; the others at their
   *  next login. The change itself is done: a failure to note it for those away is logged,
   *  not answered. */
  const tell = async (r: Row, spec: Told, by: Session) => {
    let names: string[];
    await fresh(r.room); // in a cluster, members who joined on another node just now
    try {
      names = members(r.room, by.name!).members;
    } catch {
      return; // the room is gone, or the one acting left it: nothing to tell
    }
    const away: string[] = [];
    for (const n of names) if (!api.sendTo(n, spec, view(r, n))) away.push(n.toLowerCase());
    if (away.length === 0) return;
    const at = Date.now();
    await api.db.tx(async (tx) => {
      for (const account of away) {
        await tx.run(
          "INSERT INTO question_missed (account, question, kind, at) VALUES (?, ?, ?, ?)" +
            " ON CONFLICT (account, question) DO UPDATE SET at = excluded.at",
          [account, r.id, spec.type, at],
        );
      }
    }).catch((e) => api.log.error(`noting question ${r.id} for those away: ${e}`));
  };
  /** What changed while `s` was away: the newest MISSED_SHOWN questions, each once, as it is
   *  now (one deleted before they saw it at all is skipped). Only the rows read are deleted
   *  (with the older ones past the limit), and only if the session is still there. */
  const missed = async (s: Session) => {
    const me = s.name!.toLowerCase();
    const rows = await api.db.all<Row & { kind: string; at: number }>(
      "SELECT q.*, m.kind, m.at FROM questions q JOIN question_missed m ON m.question = q.id" +
        " WHERE m.account = ? ORDER BY m.at DESC, q.id DESC LIMIT ?",
      [me, MISSED_SHOWN],
    );
    if (rows.length === 0 || api.sessions.get(me) !== s) return;
    for (const r of rows.toReversed()) {
      if (r.deleted && r.kind === QuestionsAsked.type) continue;
      if (!readable(r, s)) continue; // left the room since
      api.relay([s], { type: r.kind, ...view(r, s.name!), replay: "missed" });
    }
    await api.db.tx(async (tx) => {
      for (const r of rows) {
        await tx.run("DELETE FROM question_missed WHERE account = ? AND question = ? AND at = ?", [
          me,
          r.id,
          r.at,
        ]);
      }
      await tx.run("DELETE FROM question_missed WHERE account = ? AND at < ?", [
        me,
        rows.at(-1)!.at,
      ]);
    });
  };
  api.onLogin((s) => {
    missed(s).catch((e) => api.log.error(`questions changed while ${s.name} was away: ${e}`));
  });
  /** The reader is in the question's room: staff too (staff powers are within their rooms). */
  const readable = (r: Row, s: Session) => {
    try {
      members(r.room, s.name!);
      return true;
    } catch {
      return false;
    }
  };
  const mayRead = (r: Row, s: Session) => void members(r.room, s.name!);

  api.on(QuestionsAsk, async ({ room, text, anonymous }, ctx) => {
    const { room: name } = members(room, ctx.session.name!);
    const ts = Date.now();
    const { lastId } = await api.db.run(
      "INSERT INTO questions (room, author, anonymous, text, ts) VALUES (?, ?, ?, ?, ?)",
      [name, ctx.session.name!, anonymous ? 1 : 0, text, ts],
    );
    await tell(
      (await api.db.get<Row>("SELECT * FROM questions WHERE id = ?", [lastId]))!,
      QuestionsAsked,
      ctx.session,
    );
    return { question: lastId };
  });

  api.on(QuestionsList, async ({ room, all }, ctx) => {
    const { room: name } = members(room, ctx.session.name!);
    const rows = await api.db.all<Row>(
      "SELECT * FROM questions WHERE room = ?" + (all ? "" : " AND resolved = 0 AND deleted = 0") +
        " ORDER BY votes DESC, id LIMIT 100",
      [name],
    );
    return { questions: rows.map((r) => view(r, ctx.session.name!)) };
  });

  api.on(QuestionsUpvote, async ({ question }, ctx) => {
    const r = await row(question, ctx.fail);
    mayRead(r, ctx.session);
    const voted = await api.db.run(
      "INSERT INTO question_votes (question, voter) VALUES (?, ?) ON CONFLICT DO NOTHING",
      [question, ctx.session.name!.toLowerCase()],
    );
    if (voted.changes === 0) ctx.fail("ALREADY_VOTED");
    await api.db.run("UPDATE questions SET votes = votes + 1 WHERE id = ?", [question]);
    return { votes: r.votes + 1 };
  });

  api.on(QuestionsAnswer, async ({ question, text }, ctx) => {
    const r = await row(question, ctx.fail);
    mayRead(r, ctx.session);
    const me = ctx.session.name!;
    if (!isStaff(ctx.session) && r.author.toLowerCase() !== me.toLowerCase()) ctx.fail("NOT_YOURS");
    await api.db.run("UPDATE questions SET answer = ?, answered_by = ? WHERE id = ?", [
      text,
      me,
      question,
    ]);
    await tell({ ...r, answer: text, answered_by: me }, QuestionsUpdated, ctx.session);
  });

  const staffSets = (field: "resolved" | "deleted", value: number) =>
  async (
    { question }: { question: number },
    ctx: Parameters<Parameters<typeof api.on>[1]>[1],
  ) => {
    if (!isStaff(ctx.session)) ctx.fail("STAFF_ONLY");
    const r = await row(question, ctx.fail);
    mayRead(r, ctx.session);
    await api.db.run(`UPDATE questions SET ${field} = ? WHERE id = ?`, [value, question]);
    await tell({ ...r, [field]: value }, QuestionsUpdated, ctx.session);
  };
  api.on(QuestionsResolve, staffSets("resolved", 1));
  api.on(QuestionsReopen, staffSets("resolved", 0));
  api.on(QuestionsDelete, staffSets("deleted", 1));

  questionsText(api);
}
