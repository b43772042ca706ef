/** The sendfile plugin's error codes (Plugin.errors). NO_SUCH_FILE, NOT_A_FILE and
 *  FILE_UNREADABLE are reported by the sending client before anything is sent; the end-to-end
 *  ones are shared with encrypt (a sealed file that does not open). */
import { E2E_ERRORS } from "../encrypt/protocol.ts";
import { MAX_TRANSFERS_PER_SESSION } from "./protocol.ts";

export const SENDFILE_ERRORS = {
  ...E2E_ERRORS,
  FILE_TOO_LARGE: "the file is larger than the server keeps for recipients away (--max-file-size)",
  QUOTA_EXCEEDED: "the server's space for kept files is full (--file-quota); try again later",
  TOO_MANY_TRANSFERS:
    `the sender has ${MAX_TRANSFERS_PER_SESSION} transfers going, or a busy receiver would need a file kept that is too large to keep`,
  TRANSFER_CANCELLED: "the file transfer ended unfinished (cancelled, disconnected or broken)",
  CHECKSUM_MISMATCH: "the received file's SHA-256 differs from the sender's; it was not kept",
  NO_SUCH_FILE: "client: there is no file at that path",
  NOT_A_FILE: "client: the path is a directory or another non-file",
  FILE_UNREADABLE: "client: the file could not be read (permissions?)",
} as const;
