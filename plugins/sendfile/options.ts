/** sendfile's options (`classchat serve` and `connect`), declared once: flag, help, default
 *  and why, the value's check. Read typed with api.setting. */
import { duration, size, text } from "../../protocol/settings.ts";

/** Where received files land (`connect --downloads <dir>`): a folder of its own under the
 *  usual downloads folder, so a class's files are found together. */
export const DOWNLOADS = text({
  command: "connect",
  flag: "--downloads <dir>",
  help: "where received files are saved",
  default: "~/Downloads/ClassChat",
});

/** Largest file kept for people away and rooms: lecture slides and recordings of a few
 *  minutes fit; bigger files can still go live to someone online. */
export const MAX_FILE_SIZE = size({
  flag: "--max-file-size <size>",
  help: "largest file kept for people away and rooms (e.g. 100MiB, 1GB)",
  default: "100MiB",
});

/** Space for all kept files together: fifty of the largest, on a disk a department spares. */
export const FILE_QUOTA = size({
  flag: "--file-quota <size>",
  help: "space for all kept files together",
  default: "5GiB",
});

/** How long a kept file waits for its recipients: two weeks covers a student away for a
 *  week of term; 0 keeps files until everyone got them. */
export const FILE_TTL = duration({
  flag: "--file-ttl <duration>",
  help: "how long a kept file waits for its recipients (e.g. 14d, 12h; 0: no limit)",
  default: "14d",
});

/** A transfer in which nothing moved for this long is cancelled: a peer that stopped sending
 *  or acknowledging must not hold a reader's live slot or the store's space. A minute is far
 *  beyond any pause of a working client (each chunk is acknowledged as it is written). */
export const TRANSFER_TIMEOUT = duration({
  flag: "--transfer-timeout <duration>",
  help: "cancel a transfer in which nothing moved for this long (0: never)",
  default: "60s",
});

export const SENDFILE_OPTIONS = [DOWNLOADS, MAX_FILE_SIZE, FILE_QUOTA, FILE_TTL, TRANSFER_TIMEOUT];
