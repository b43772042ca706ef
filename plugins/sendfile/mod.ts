/** sendfile: files streamed through the server in checked chunks (`/sendfile Bob notes.pdf`),
 *  live to someone online, kept by the server for someone away and for rooms. */
import type { Plugin } from "../types.ts";
import { DEFAULT_DOWNLOADS, sendfileClient } from "./client.ts";
import {
  DEFAULT_FILE_QUOTA,
  DEFAULT_FILE_TTL,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_TRANSFER_TIMEOUT,
  sendfileServer,
} from "./server.ts";
import { SENDFILE_MIGRATIONS } from "./store.ts";
import { checkDuration, checkSize } from "../../protocol/units.ts";

export const sendfile: Plugin = {
  name: "sendfile",
  summary: "send files: streamed, flow-controlled, SHA-256 checked, kept for those away",
  migrations: SENDFILE_MIGRATIONS,
  options: [{
    command: "connect",
    flags: "--downloads <dir>",
    description: "where received files are saved",
    default: DEFAULT_DOWNLOADS,
  }, {
    flags: "--max-file-size <size>",
    description: "largest file kept for people away and rooms (e.g. 100MiB, 1GB)",
    default: DEFAULT_MAX_FILE_SIZE,
    check: checkSize,
  }, {
    flags: "--file-quota <size>",
    description: "space for all kept files together",
    default: DEFAULT_FILE_QUOTA,
    check: checkSize,
  }, {
    flags: "--file-ttl <duration>",
    description: "how long a kept file waits for its recipients (e.g. 14d, 12h; 0: no limit)",
    default: DEFAULT_FILE_TTL,
    check: checkDuration,
  }, {
    flags: "--transfer-timeout <duration>",
    description: "cancel a transfer in which nothing moved for this long (0: never)",
    default: DEFAULT_TRANSFER_TIMEOUT,
    check: checkDuration,
  }],
  server: sendfileServer,
  client: sendfileClient,
};
