/**
 * The questions plugin's server half. Every question frame is made for its reader (view): an
 * anonymous question's author is named only to staff, so the name never leaves the server to a
 * student's session, in pushes, lists or plain text (which renders the same frames).
 */
import type { Migration, RoomMembers, ServerApi, Session } from "../types.ts";
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

/** What a tombstone says in place of a deleted question. */
const DELETED = "[deleted by staff]";

export function questionsServer(api: ServerApi) {
  const isStaff = (s: Session) => api.accounts.isAdmin(s.name!);
  const members = (room: string, me: string) =>
    api.service<RoomMembers>("groups.members")!(room, me);

  /** The question as `reader` may see it. */
  const view = (r: Row, reader: Session): Question => {
    const staff = isStaff(reader);
    const mine = r.author.toLowerCase() === reader.name!.toLowerCase();
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
  /** Tells the room's members online, each their own view. */
  const tell = (r: Row, spec: typeof QuestionsAsked | typeof QuestionsUpdated, by: Session) => {
    let names: string[];
    try {
      names = members(r.room, by.name!).members;
    } catch {
      return; // the room is gone, or the one acting left it: nothing to tell
    }
    for (const n of names) {
      const s = api.sessions.get(n);
      if (s) api.send(s, spec, view(r, s));
    }
  };
  /** Checks the reader is in the question's room (staff: always). */
  const mayRead = (r: Row, s: Session) => {
    if (!isStaff(s)) members(r.room, s.name!);
  };

  api.on(QuestionsAsk, async ({ room, text, anonymous }, ctx) => {
    const { room: name } = members(room, ctx.session.name!);
    const ts = Date.now();
    const { lastId } = await api.db.run(
      "INSERT INTO questions (room, author, anonymous, text, ts) VALUES (?, ?, ?, ?, ?)",
      [name, ctx.session.name!, anonymous ? 1 : 0, text, ts],
    );
    tell(
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
    return { questions: rows.map((r) => view(r, ctx.session)) };
  });

  api.on(QuestionsUpvote, async ({ question }, ctx) => {
    const r = await row(question, ctx.fail);
    mayRead(r, ctx.session);
    const voted = await api.db.run(
      "INSERT OR IGNORE INTO question_votes (question, voter) VALUES (?, ?)",
      [question, ctx.session.name!.toLowerCase()],
    );
    if (voted.changes === 0) ctx.fail("ALREADY_VOTED");
    await api.db.run("UPDATE questions SET votes = votes + 1 WHERE id = ?", [question]);
    return { votes: r.votes + 1 };
  });

  api.on(QuestionsAnswer, async ({ question, text }, ctx) => {
    const r = await row(question, ctx.fail);
    const me = ctx.session.name!;
    if (!isStaff(ctx.session) && r.author.toLowerCase() !== me.toLowerCase()) ctx.fail("NOT_YOURS");
    await api.db.run("UPDATE questions SET answer = ?, answered_by = ? WHERE id = ?", [
      text,
      me,
      question,
    ]);
    tell({ ...r, answer: text, answered_by: me }, QuestionsUpdated, ctx.session);
  });

  const staffSets = (field: "resolved" | "deleted", value: number) =>
  async (
    { question }: { question: number },
    ctx: Parameters<Parameters<typeof api.on>[1]>[1],
  ) => {
    if (!isStaff(ctx.session)) ctx.fail("STAFF_ONLY");
    const r = await row(question, ctx.fail);
    await api.db.run(`UPDATE questions SET ${field} = ? WHERE id = ?`, [value, question]);
    tell({ ...r, [field]: value }, QuestionsUpdated, ctx.session);
  };
  api.on(QuestionsResolve, staffSets("resolved", 1));
  api.on(QuestionsReopen, staffSets("resolved", 0));
  api.on(QuestionsDelete, staffSets("deleted", 1));

  questionsText(api);
}
