/** The questions plugin's plain-text (nc) commands and how its pushes read there: the same
 *  frames, made for the reader by the server, so nc shows no more than the client does. */
import type { ServerApi } from "../types.ts";
import {
  QuestionsAnswer,
  QuestionsAsk,
  QuestionsAsked,
  QuestionsList,
  QuestionsResolve,
  QuestionsUpdated,
  QuestionsUpvote,
  questionText,
} from "./protocol.ts";

export function questionsText(api: ServerApi) {
  api.text.command({
    usage: "server:ask [#room] [-a] <question>",
    summary: "ask in a room (the class room if none is named); -a: anonymous to the other " +
      "students (not to staff)",
    // A room is `#room`, or a bare name before the flag: see the client's /ask.
    match:
      /^(?:server:|\/)ask\s+(?:(#\S+|\S+(?=\s+(?:-a|--anonymous)\s))\s+)?(?:(-a|--anonymous)\s+)?(\S.*)$/i,
    toFrame: (m) => ({ type: QuestionsAsk.type, room: m[1], text: m[3], anonymous: !!m[2] }),
    ack: (r) => `asked: question ${r.question}`,
  });
  api.text.command({
    usage: "server:questions [#room] [all]",
    summary: "a room's questions (the class room's if none is named), most votes first",
    match: /^(?:server:|\/)questions(?:\s+(?!all$)([#@]?\S+))?(\s+all)?$/i,
    toFrame: (m) => ({ type: QuestionsList.type, room: m[1], all: !!m[2] }),
    ack: (r) => {
      const qs = QuestionsList.decodeAck(r).questions;
      return qs.length === 0
        ? "no questions"
        : qs.map((q) => questionText(q, api.text.name)).join("\n");
    },
  });
  api.text.command({
    usage: "server:upvote <n>",
    summary: "upvote a question (once)",
    match: /^(?:server:|\/)upvote\s+(\d+)$/i,
    toFrame: (m) => ({ type: QuestionsUpvote.type, question: Number(m[1]) }),
    ack: (r) => `upvoted (${r.votes} votes)`,
  });
  api.text.command({
    usage: "server:answer <n> <text>",
    summary: "answer a question (staff, or who asked)",
    match: /^(?:server:|\/)answer\s+(\d+)\s+(\S.*)$/i,
    toFrame: (m) => ({ type: QuestionsAnswer.type, question: Number(m[1]), text: m[2] }),
    ack: () => "answered",
  });
  api.text.command({
    usage: "server:resolve <n>",
    summary: "mark a question resolved (staff)",
    match: /^(?:server:|\/)resolve\s+(\d+)$/i,
    toFrame: (m) => ({ type: QuestionsResolve.type, question: Number(m[1]) }),
    ack: () => "resolved",
  });
  api.text.render(QuestionsAsked, (q) => `* new question ${questionText(q, api.text.name)}`);
  api.text.render(QuestionsUpdated, (q) => `* question ${questionText(q, api.text.name)}`);
}
