/** queue: office hours. Staff open a queue; students join it with a topic and see their place
 *  and the wait; staff take the next student (who is told) and finish; it survives restarts
 *  and a student's drop (their place is kept for a while). A class tool. */
import type { Plugin } from "../types.ts";
import { QUEUE_ERRORS } from "./errors.ts";
import { queueServer } from "./server.ts";
import { QUEUE_MIGRATIONS } from "./state.ts";
import { queueClient } from "./client.ts";
import { QUEUE_GRACE } from "./options.ts";

export const queue: Plugin = {
  name: "queue",
  summary: "office hours: a queue staff take students from, with waits",
  requires: ["staff"],
  errors: QUEUE_ERRORS,
  options: [QUEUE_GRACE],
  migrations: QUEUE_MIGRATIONS,
  server: queueServer,
  client: queueClient,
};
