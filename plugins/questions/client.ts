/** The questions plugin's client half: /ask, /questions, /upvote, /answer, /resolve, /reopen,
 *  /qdelete, and questions as they are asked and answered. */
import { type ClientApi, UsageError } from "../types.ts";
import {
  QuestionsAnswer,
  QuestionsAsk,
  QuestionsAsked,
  QuestionsDelete,
  QuestionsList,
  QuestionsReopen,
  QuestionsResolve,
  QuestionsUpdated,
  QuestionsUpvote,
  questionText,
} from "./protocol.ts";

const isFlag = (word?: string) => word === "-a" || word === "--anonymous";

export function questionsClient(api: ClientApi) {
  api.command({
    name: "ask",
    usage: "/ask [#room] [--anonymous | -a] <question>",
    summary: "ask in a room (the class room if none is named); anonymous: the other students " +
      "do not see who asked (staff do)",
    async run(input, ctx) {
      const [first, second] = input.args;
      // A room is `#room`, or a bare name before the flag (`/ask lab2 -a ...`): a question
      // meant to be anonymous is never posted with its author's name by a misread word.
      const room = first?.startsWith("#") || (!isFlag(first) && isFlag(second)) ? first : undefined;
      const flag = input.args[room ? 1 : 0];
      const anonymous = flag === "-a" || flag === "--anonymous";
      const text = input.tail((room ? 1 : 0) + (anonymous ? 1 : 0));
      if (!text) throw new UsageError();
      const { question } = await ctx.request(QuestionsAsk, { room, text, anonymous });
      ctx.ui.notice(`asked: question ${question}${anonymous ? " (anonymous to students)" : ""}`);
    },
  });
  api.command({
    name: "questions",
    usage: "/questions [#room] [all]",
    summary: "a room's open questions (the class room's if none is named), most votes first " +
      "(all: resolved ones too)",
    async run(input, ctx) {
      const room = input.args[0] !== "all" ? input.args[0] : undefined;
      const all = input.args[room ? 1 : 0];
      if (input.args.length > (room ? 2 : 1) || (all !== undefined && all !== "all")) {
        throw new UsageError();
      }
      const { questions } = await ctx.request(QuestionsList, { room, all: all === "all" });
      if (questions.length === 0) return ctx.ui.notice("no questions");
      for (const q of questions) ctx.ui.notice(questionText(q, ctx.ui.style.name));
    },
  });
  const byNumber = (
    name: string,
    summary: string,
    run: (
      question: number,
      rest: string,
      ctx: Parameters<Parameters<ClientApi["command"]>[0]["run"]>[1],
    ) => Promise<void>,
    usage = `/${name} <n>`,
  ) =>
    api.command({
      name,
      usage,
      summary,
      run(input, ctx) {
        const n = Number(input.args[0]);
        if (!Number.isSafeInteger(n) || n < 1) throw new UsageError();
        return run(n, input.tail(1), ctx);
      },
    });
  byNumber("upvote", "upvote a question (once each)", async (question, _r, ctx) => {
    const { votes } = await ctx.request(QuestionsUpvote, { question });
    ctx.ui.notice(`upvoted question ${question} (${votes} votes)`);
  });
  byNumber("answer", "answer a question (staff, or who asked)", async (question, text, ctx) => {
    if (!text) throw new UsageError();
    await ctx.request(QuestionsAnswer, { question, text });
    ctx.ui.notice(`answered question ${question}`);
  }, "/answer <n> <text>");
  byNumber("resolve", "(staff) mark a question resolved", async (question, _r, ctx) => {
    await ctx.request(QuestionsResolve, { question });
    ctx.ui.notice(`question ${question} resolved`);
  });
  byNumber("reopen", "(staff) reopen a resolved question", async (question, _r, ctx) => {
    await ctx.request(QuestionsReopen, { question });
    ctx.ui.notice(`question ${question} reopened`);
  });
  byNumber(
    "qdelete",
    "(staff) delete a question, leaving a tombstone",
    async (question, _r, ctx) => {
      await ctx.request(QuestionsDelete, { question });
      ctx.ui.notice(`question ${question} deleted`);
    },
  );
  api.on(QuestionsAsked, (q, ui) => ui.notice(`new question ${questionText(q, ui.style.name)}`));
  api.on(QuestionsUpdated, (q, ui) => ui.notice(`question ${questionText(q, ui.style.name)}`));
}
