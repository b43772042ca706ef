/** questions: a room's questions, asked openly or anonymously (anonymous to the other
 *  students, never to staff), upvoted, answered and resolved. A class tool. */
import type { Plugin } from "../types.ts";
import { QUESTIONS_ERRORS } from "./errors.ts";
import { QUESTIONS_MIGRATIONS, questionsServer } from "./server.ts";
import { questionsClient } from "./client.ts";

export const questions: Plugin = {
  name: "questions",
  summary: "questions in rooms, anonymous to students if asked, upvoted and answered",
  requires: ["groups", "staff"],
  errors: QUESTIONS_ERRORS,
  migrations: QUESTIONS_MIGRATIONS,
  server: questionsServer,
  client: questionsClient,
};
