/**
 * A connection's read loop: bytes into lines (the splitter caps a line before buffering it),
 * each line to the router, one at a time. After the session is closed it goes on reading and
 * discarding for the linger (see ChatServer.closeSession), so the peer's last bytes do not make
 * the kernel reset the connection and destroy the closing frame.
 */
import { LineSplitter } from "../../protocol/framing.ts";
import { handleLine } from "./lines.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";

/** Bytes read from a socket at a time: one buffer per connection, reused, so it is most of an
 *  idle connection's cost; 8 KiB holds a burst of chat lines, and longer frames span reads. */
const READ_BUFFER_BYTES = 8 * 1024;
/** What a closed session's peer may still send, read and discarded, before the loop stops. */
const LINGER_BYTES = 16 * 1024 * 1024;
/** The first byte of a TLS handshake record: a TLS client dialled the plain-text port. */
const TLS_HANDSHAKE = 0x16;

/** Reads until the peer closes, the socket fails or the session is closed and lingered. */
export async function readLoop(hub: Hub, s: ServerSession): Promise<void> {
  const conn = s.conn;
  const splitter = new LineSplitter(hub.limits.maxFrameBytes);
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  try {
    let discarded = 0;
    s.reading = true;
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (s.closed) {
        if ((discarded += n) > LINGER_BYTES) break;
        continue;
      }
      if (!s.modeChosen && !hub.tls && buf[0] === TLS_HANDSHAKE && splitter.buffered === 0) {
        hub.log.info(`session ${s.id} (${s.remote}): a TLS handshake on the plain port`);
        await hub.closeSession(s, "NOT_CHAT_PROTOCOL", "this port speaks plain TCP, not TLS");
        break;
      }
      for (const ev of splitter.push(buf.subarray(0, n))) {
        if (s.closed) break;
        if (ev.kind === "oversize") {
          const max = hub.limits.maxFrameBytes;
          hub.error(s, "FRAME_TOO_LARGE", `a line exceeded ${max} bytes`);
        } else {
          // Heard only on whole lines: a line that never ends keeps nothing alive.
          hub.guard.heard(s);
          const pending = handleLine(hub, s, ev.bytes);
          if (pending) await pending;
        }
      }
    }
  } catch (e) {
    readFailed(hub, s, e);
  }
}

/** One log line per failed connection, at a level that matches how unusual it is. */
function readFailed(hub: Hub, s: ServerSession, e: unknown) {
  if (s.closed || e instanceof Deno.errors.ConnectionReset) return;
  // A TLS peer that leaves without close_notify is just a peer that left.
  if (e instanceof Deno.errors.UnexpectedEof) return;
  // Before its first line a TLS connection fails in its handshake, which the guard logs.
  if (hub.tls && !s.modeChosen) return;
  hub.log.warn(`session ${s.id} (${s.remote}): read failed: ${e}`);
}
