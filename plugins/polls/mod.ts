/** polls: a question with options for a room's members, voted on with live results; anonymous
 *  polls name no voter to anyone and keep no ballot once closed. A class tool. */
import type { Plugin } from "../types.ts";
import { POLLS_ERRORS } from "./errors.ts";
import { pollsServer } from "./server.ts";
import { POLLS_MIGRATIONS } from "./state.ts";
import { pollsClient } from "./client.ts";

export const polls: Plugin = {
  name: "polls",
  summary: "polls in rooms, live results, anonymous if asked",
  requires: ["groups", "staff"],
  errors: POLLS_ERRORS,
  migrations: POLLS_MIGRATIONS,
  server: pollsServer,
  client: pollsClient,
};
