/** Direct-message frames, shared by the dm plugin's client and server halves. */
import { NAME_SOURCE } from "../../protocol/limits.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";

/** `Bob: hello`, the assignment's way to message someone (client input and plain-text mode).
 *  `server:who` is a command, never a message to a user called "server" (a reserved name). */
export const TO_USER_LINE = new RegExp(`^(?!server:)(${NAME_SOURCE}):\\s*(\\S.*)$`, "i");

/** A message body: readable `text`, or `sealed`, an end-to-end encrypted body (see the encrypt
 *  plugin) that the server relays and stores without being able to read it. */
export interface DmBody {
  text?: string;
  sealed?: Record<string, unknown>;
}

/** Shown for a sealed message where it cannot be opened (plain-text mode, no key). */
export const SEALED_PLACEHOLDER =
  "[end-to-end encrypted message: open it with the classchat client]";

function body(f: RawFrame): DmBody {
  if (f.sealed !== undefined) return { sealed: field.object(f, "sealed") };
  return { text: field.text(f, "text", { min: 1 }) };
}

/** dm.send {receiver, text | sealed} -> ack {receiver, ts, seq?, status} | NO_SUCH_USER |
 *  USER_OFFLINE | TEXT_TOO_LONG; status is "sent" (pushed to the receiver now) or "stored"
 *  (the receiver is offline and gets it on connecting). */
export const DmSend = message("dm.send", (f) => ({
  receiver: field.string(f, "receiver", { min: 1 }),
  ...body(f),
}), {
  resend: true, // queued while reconnecting, sent again until answered
  ack: (f) => ({
    receiver: field.text(f, "receiver"),
    ts: field.number(f, "ts"),
    seq: field.optionalNumber(f, "seq"),
    status: field.text(f, "status"),
  }),
});

/** dm.message {sender, receiver, text | sealed, ts}: pushed to the receiver; ts is ms since
 *  the epoch. With the offline plugin it also carries `seq` (and `replay`, see PROTOCOL.md). */
export const DmMessage = message("dm.message", (f) => ({
  sender: field.text(f, "sender"),
  receiver: field.text(f, "receiver"),
  ...body(f),
  ts: field.number(f, "ts"),
}));
