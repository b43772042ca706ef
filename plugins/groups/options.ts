/** groups' `classchat serve` options, in the order --help lists them; the limits among them
 *  are declared with their defaults in limits.ts. Read typed with api.setting. */
import { text } from "../../protocol/settings.ts";
import { roomNameProblem } from "./protocol.ts";
import { JOIN_HISTORY, MAX_PINS, MAX_ROOMS_PER_ACCOUNT } from "./limits.ts";

/** The class room (`serve --class-room <room>`): none unless the instructor names one. */
export const CLASS_ROOM = text({
  flag: "--class-room <room>",
  help: "an announcement room every account is in, e.g. the course's (cs350)",
  check: roomNameProblem,
});

export const GROUPS_OPTIONS = [CLASS_ROOM, MAX_ROOMS_PER_ACCOUNT, JOIN_HISTORY, MAX_PINS];
