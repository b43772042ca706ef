/** Direct-message frames, shared by the dm plugin's client and server halves. */
import { field, message } from "../../protocol/spec.ts";

/** dm.send {receiver, text} -> ack {receiver, ts, status} | NO_SUCH_USER | TEXT_TOO_LONG */
export const DmSend = message("dm.send", (f) => ({
  receiver: field.string(f, "receiver", { min: 1, max: 64 }),
  text: field.string(f, "text", { min: 1 }),
}));

/** dm.message {sender, receiver, text, ts}: pushed to the receiver; ts is ms since the epoch. */
export const DmMessage = message("dm.message", (f) => ({
  sender: field.string(f, "sender"),
  receiver: field.string(f, "receiver"),
  text: field.string(f, "text"),
  ts: field.number(f, "ts"),
}));
