/** dm: direct messages between two users, routed by the server. */
import type { Plugin } from "../types.ts";
import { DM_ERRORS } from "./errors.ts";
import { dmClient } from "./client.ts";
import { dmServer } from "./server.ts";
import { DM_MIGRATIONS } from "./contacts.ts";

export const dm: Plugin = {
  name: "dm",
  summary: "direct messages between users",
  errors: DM_ERRORS,
  migrations: DM_MIGRATIONS,
  server: dmServer,
  client: dmClient,
};
