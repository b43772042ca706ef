/** hands: students raise a hand for the staff (plugin staff), who see the line in order and
 *  lower each hand once answered; the line survives restarts. A class tool, and the example
 *  of a capability added as a folder plus one line in plugins/mod.ts (docs/ARCHITECTURE.md). */
import type { Plugin } from "../types.ts";
import { HANDS_ERRORS } from "./errors.ts";
import { MAX_HANDS } from "./options.ts";
import { HANDS_MIGRATIONS, handsServer } from "./server.ts";
import { handsClient } from "./client.ts";

export const hands: Plugin = {
  name: "hands",
  summary: "raise a hand for the staff; staff see the line and lower hands",
  requires: ["staff"],
  errors: HANDS_ERRORS,
  options: [MAX_HANDS],
  migrations: HANDS_MIGRATIONS,
  server: handsServer,
  client: handsClient,
};
