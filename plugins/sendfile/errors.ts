/** The sendfile plugin's error codes (Plugin.errors). NO_SUCH_FILE, NOT_A_FILE and
 *  FILE_UNREADABLE are reported by the sending client before anything is sent. */
export const SENDFILE_ERRORS = {
  FILE_TOO_LARGE: "the file is larger than the server keeps for recipients away (--max-file-size)",
  QUOTA_EXCEEDED: "the server's space for kept files is full (--file-quota); try again later",
  TOO_MANY_TRANSFERS: "too many file transfers going at once on this connection",
  TRANSFER_CANCELLED: "the file transfer ended unfinished (cancelled, disconnected or broken)",
  CHECKSUM_MISMATCH: "the received file's SHA-256 differs from the sender's; it was not kept",
  NO_SUCH_FILE: "client: there is no file at that path",
  NOT_A_FILE: "client: the path is a directory or another non-file",
  FILE_UNREADABLE: "client: the file could not be read (permissions?)",
} as const;
