/** groups: rooms that a class talks in; posts go through the message log like direct
 *  messages, so members who are away get them when they connect. */
import type { Plugin } from "../types.ts";
import { groupsClient } from "./client.ts";
import { groupsServer } from "./server.ts";
import { GROUPS_MIGRATIONS } from "./store.ts";
import { roomNameProblem } from "./protocol.ts";
import {
  countProblem,
  DEFAULT_JOIN_HISTORY,
  DEFAULT_MAX_PINS,
  DEFAULT_MAX_ROOMS_PER_ACCOUNT,
  MAX_PINS_CEILING,
  maxRoomsProblem,
} from "./limits.ts";

export const groups: Plugin = {
  name: "groups",
  summary: "rooms: create, join, post; members away get posts later",
  migrations: GROUPS_MIGRATIONS,
  options: [{
    flags: "--class-room <room>",
    description: "an announcement room every account is in, e.g. the course's (cs350)",
    check: roomNameProblem,
  }, {
    flags: "--max-rooms-per-account <n>",
    description: "rooms one account may be in, the class room not counted (1-100000)",
    default: String(DEFAULT_MAX_ROOMS_PER_ACCOUNT),
    check: maxRoomsProblem,
  }, {
    flags: "--join-history <n>",
    description: "past posts of a room a new member is given (0-500)",
    default: String(DEFAULT_JOIN_HISTORY),
    check: countProblem(0, 500),
  }, {
    flags: "--max-pins <n>",
    description: `pinned posts a room may have (1-${MAX_PINS_CEILING})`,
    default: String(DEFAULT_MAX_PINS),
    check: countProblem(1, MAX_PINS_CEILING),
  }],
  server: groupsServer,
  client: groupsClient,
};
