/** offline: the durable message log. Every direct (and room) message is logged before it is
 *  acked; each account catches up from its cursor on login; /history reads the same log. */
import type { Plugin } from "../types.ts";
import { offlineClient } from "./client.ts";
import { offlineServer } from "./server.ts";
import { OFFLINE_MIGRATIONS } from "./store.ts";
import { RETENTION } from "./options.ts";

export const offline: Plugin = {
  name: "offline",
  summary: "offline delivery and history from a durable message log",
  migrations: OFFLINE_MIGRATIONS,
  options: [RETENTION],
  server: offlineServer,
  client: offlineClient,
};
