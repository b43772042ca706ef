/** sendfile: files streamed through the server in checked chunks (`/sendfile Bob notes.pdf`),
 *  live to someone online, kept by the server for someone away and for rooms. */
import type { Plugin } from "../types.ts";
import { SENDFILE_ERRORS } from "./errors.ts";
import { sendfileClient } from "./client.ts";
import { sendfileServer } from "./server.ts";
import { SENDFILE_MIGRATIONS } from "./migrations.ts";
import { SENDFILE_OPTIONS } from "./options.ts";

export const sendfile: Plugin = {
  name: "sendfile",
  summary: "send files: streamed, flow-controlled, SHA-256 checked, kept for those away",
  errors: SENDFILE_ERRORS,
  migrations: SENDFILE_MIGRATIONS,
  options: SENDFILE_OPTIONS,
  server: sendfileServer,
  client: sendfileClient,
};
