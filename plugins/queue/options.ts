/** The queue plugin's option. */
import { seconds } from "../../protocol/settings.ts";

/** How long a student who dropped keeps their place in the queue (`serve --queue-grace <s>`):
 *  long enough for a laptop to change networks or a browser tab to be reopened, short enough
 *  that staff are not sent to someone who went home. */
export const QUEUE_GRACE = seconds({
  flag: "--queue-grace <seconds>",
  help: "how long a student who dropped keeps their place in the office-hours queue",
  default: 300,
  min: 0,
  max: 86_400,
});
