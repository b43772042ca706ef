/** groups: rooms that a class talks in; posts go through the message log like direct
 *  messages, so members who are away get them when they connect. */
import type { Plugin } from "../types.ts";
import { GROUPS_ERRORS } from "./errors.ts";
import { groupsClient } from "./client.ts";
import { groupsServer } from "./server.ts";
import { GROUPS_MIGRATIONS } from "./store.ts";
import { GROUPS_OPTIONS } from "./options.ts";

export const groups: Plugin = {
  name: "groups",
  summary: "rooms: create, join, post; members away get posts later",
  errors: GROUPS_ERRORS,
  migrations: GROUPS_MIGRATIONS,
  options: GROUPS_OPTIONS,
  server: groupsServer,
  client: groupsClient,
};
