/**
 * questions: a room's questions, asked openly or anonymously, upvoted, answered and resolved.
 * Anonymous means anonymous to the other students, not to staff: the server never sends the
 * author's name of an anonymous question to a session that is not staff (the author's own
 * sessions get `mine: true` instead). Wire:
 *
 *   questions.ask {room, text, anonymous?}  -> ack {question} | NO_SUCH_ROOM | NOT_A_MEMBER
 *   questions.list {room, all?}             -> ack {questions: [Q]}  open ones (all: resolved
 *                                              too), most votes first
 *   questions.upvote {question}             -> ack {votes} | ALREADY_VOTED
 *   questions.answer {question, text}       -> ack {} | NOT_YOURS   (staff, or who asked)
 *   questions.resolve {question}            -> ack {}  staff; questions.reopen likewise
 *   questions.delete {question}             -> ack {}  staff: a tombstone stays
 *   questions.asked Q / questions.updated Q    pushed to the room's members online
 *
 * Q = {question, room, by?, anonymous, mine?, text, ts, votes, answer?, answeredBy?,
 * resolved, deleted}: `by` is absent from an anonymous question for everyone but staff, and
 * so is `answeredBy` when the asker answered it.
 */
import { field, message, type RawFrame } from "../../protocol/spec.ts";
import { ChatError } from "../../protocol/errors.ts";

/** Longest question and answer, in characters. */
export const MAX_QUESTION_TEXT = 2000;

export interface Question {
  question: number;
  room: string;
  by?: string;
  anonymous: boolean;
  mine?: boolean;
  text: string;
  ts: number;
  votes: number;
  answer?: string;
  answeredBy?: string;
  resolved: boolean;
  deleted: boolean;
}

const id = (f: RawFrame) => {
  const n = field.number(f, "question");
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ChatError("BAD_FRAME", 'field "question" must be a question number');
  }
  return n;
};
/** A room named with or without its `#`; absent: the class room. */
const roomOf = (f: RawFrame) =>
  field.optional(f, "room", () => field.string(f, "room", { min: 1 }).replace(/^[#@]/, ""));

export function questionOf(f: RawFrame): Question {
  return {
    question: id(f),
    room: field.text(f, "room"),
    by: field.optional(f, "by", () => field.text(f, "by")),
    anonymous: field.boolean(f, "anonymous"),
    mine: field.optional(f, "mine", () => field.boolean(f, "mine")),
    text: field.text(f, "text"),
    ts: field.number(f, "ts"),
    votes: field.number(f, "votes"),
    answer: field.optional(f, "answer", () => field.text(f, "answer")),
    answeredBy: field.optional(f, "answeredBy", () => field.text(f, "answeredBy")),
    resolved: field.boolean(f, "resolved"),
    deleted: field.boolean(f, "deleted"),
  };
}

export const QuestionsAsk = message("questions.ask", (f) => ({
  room: roomOf(f),
  text: field.text(f, "text", { min: 1, max: MAX_QUESTION_TEXT }),
  anonymous: field.optional(f, "anonymous", () => field.boolean(f, "anonymous")) ?? false,
}), { ack: (f) => ({ question: field.number(f, "question") }) });

export const QuestionsList = message("questions.list", (f) => ({
  room: roomOf(f),
  all: field.optional(f, "all", () => field.boolean(f, "all")) ?? false,
}), {
  ack: (f) => {
    if (!Array.isArray(f.questions)) {
      throw new ChatError("BAD_FRAME", 'field "questions" must be an array');
    }
    return { questions: f.questions.map((q) => questionOf(q as RawFrame)) };
  },
});

export const QuestionsUpvote = message("questions.upvote", (f) => ({ question: id(f) }), {
  ack: (f) => ({ votes: field.number(f, "votes") }),
});
export const QuestionsAnswer = message("questions.answer", (f) => ({
  question: id(f),
  text: field.text(f, "text", { min: 1, max: MAX_QUESTION_TEXT }),
}));
export const QuestionsResolve = message("questions.resolve", (f) => ({ question: id(f) }));
export const QuestionsReopen = message("questions.reopen", (f) => ({ question: id(f) }));
export const QuestionsDelete = message("questions.delete", (f) => ({ question: id(f) }));
export const QuestionsAsked = message("questions.asked", questionOf);
export const QuestionsUpdated = message("questions.updated", questionOf);

/** `#3 (5 votes) [anonymous, yours] Why is ... → answered by Prof: because ...` */
export function questionText(q: Question, name: (n: string) => string = (n) => n): string {
  const who = q.anonymous
    ? `anonymous${q.by ? ` (${name(q.by)})` : ""}${q.mine ? ", yours" : ""}`
    : q.by
    ? name(q.by)
    : "";
  const state = q.deleted ? " [deleted]" : q.resolved ? " [resolved]" : "";
  const answer = q.answer
    ? ` -> ${q.answeredBy ? name(q.answeredBy) : "the asker"}: ${q.answer}`
    : "";
  return `#${q.question} in #${q.room} (${q.votes} vote${q.votes === 1 ? "" : "s"}) ${who}: ` +
    `${q.text}${state}${answer}`;
}
