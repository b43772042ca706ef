/** The queue plugin's error codes (Plugin.errors). */
export const QUEUE_ERRORS = {
  QUEUE_CLOSED: "office hours are not open: the queue takes no one now",
  NOT_QUEUED: "you are not in the queue",
  QUEUE_EMPTY: "no one is waiting",
  NOT_HELPING: "you are not helping anyone now (/next takes the first in line)",
} as const;
