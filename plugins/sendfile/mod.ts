/** sendfile: files streamed through the server in checked chunks (`/sendfile Bob notes.pdf`). */
import type { Plugin } from "../types.ts";
import { DEFAULT_DOWNLOADS, sendfileClient } from "./client.ts";
import { sendfileServer } from "./server.ts";

export const sendfile: Plugin = {
  name: "sendfile",
  summary: "send files: streamed, flow-controlled, SHA-256 checked",
  options: [{
    command: "connect",
    flags: "--downloads <dir>",
    description: "where received files are saved",
    default: DEFAULT_DOWNLOADS,
  }],
  server: sendfileServer,
  client: sendfileClient,
};
