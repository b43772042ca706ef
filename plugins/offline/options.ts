/** offline's `classchat serve` option, read typed with api.setting. */
import { count } from "../../protocol/settings.ts";

/** Days the message log keeps a message (`serve --retention <days>`); 0 keeps everything.
 *  Keeping forever is the safe default: pruning also deletes messages whose recipient has not
 *  connected since. At most a century: a bound that never gets in anyone's way. */
export const RETENTION = count({
  flag: "--retention <days>",
  help: "delete logged messages older than this, delivered or not (0: keep forever)",
  default: 0,
  min: 0,
  max: 100 * 365,
  unit: "days",
});
