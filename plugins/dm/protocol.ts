/** Direct-message frames, shared by the dm plugin's client and server halves. */
import { NAME_SOURCE } from "../../protocol/limits.ts";
import { field, message } from "../../protocol/spec.ts";

/** `Bob: hello`, the assignment's way to message someone (client input and plain-text mode).
 *  `server:who` is a command, never a message to a user called "server" (a reserved name). */
export const TO_USER_LINE = new RegExp(`^(?!server:)(${NAME_SOURCE}):\\s*(\\S.*)$`, "i");

/** dm.send {receiver, text} -> ack {receiver, ts, status} | NO_SUCH_USER | TEXT_TOO_LONG */
export const DmSend = message("dm.send", (f) => ({
  receiver: field.string(f, "receiver", { min: 1 }),
  text: field.text(f, "text", { min: 1 }),
}));

/** dm.message {sender, receiver, text, ts}: pushed to the receiver; ts is ms since the epoch. */
export const DmMessage = message("dm.message", (f) => ({
  sender: field.text(f, "sender"),
  receiver: field.text(f, "receiver"),
  text: field.text(f, "text"),
  ts: field.number(f, "ts"),
}));
