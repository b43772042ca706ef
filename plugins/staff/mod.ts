/** staff: who teaches the class. Server admins and the accounts they name are staff, marked
 *  wherever names are shown; the class tools (hands, polls, queue, questions) give staff their
 *  powers. Named on the server's machine (`classchat admin add-staff`) or by an admin's
 *  `/staff add`. */
import type { Plugin } from "../types.ts";
import { STAFF_ERRORS } from "./errors.ts";
import { STAFF_MIGRATIONS, staffServer } from "./server.ts";
import { staffClient } from "./client.ts";
import { STAFF_OPERATOR } from "./operator.ts";

export const staff: Plugin = {
  name: "staff",
  summary: "staff: server admins and the people they name, marked wherever names are shown",
  errors: STAFF_ERRORS,
  migrations: STAFF_MIGRATIONS,
  operator: STAFF_OPERATOR,
  server: staffServer,
  client: staffClient,
};
