/**
 * A connection's read loop: bytes into frames (the splitter caps a frame before buffering
 * it), each to the router, one at a time. After the session is closed it goes on reading and
 * discarding for the linger (see ChatServer.closeSession), so the peer's last bytes do not make
 * the kernel reset the connection and destroy the closing frame.
 */
import { LineSplitter } from "../../protocol/framing.ts";
import { takeBuffer } from "../buffer_pool.ts";
import { handleBinary, handleLine } from "./lines.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";

/** A connection's read buffer, reused, starts at MIN_READ_BYTES and doubles while reads fill
 *  it, up to MAX_READ_BYTES; a read under half the minimum (the connection is not bursting)
 *  takes it back down. An idle connection parks a read on its buffer, so the minimum is what
 *  each of thousands of idle connections costs: 1 KiB holds a few chat lines (longer frames
 *  span reads), and a busy one grows to 16 KiB in four reads. */
const MIN_READ_BYTES = 1024;
const MAX_READ_BYTES = 16 * 1024;
/** What a closed session's peer may still send, read and discarded, before the loop stops. */
const LINGER_BYTES = 16 * 1024 * 1024;
/** The first byte of a TLS handshake record: a TLS client dialled the plain-text port. */
const TLS_HANDSHAKE = 0x16;

/** Reads until the peer closes, the socket fails or the session is closed and lingered. */
export async function readLoop(hub: Hub, s: ServerSession): Promise<void> {
  const conn = s.conn;
  // Binary frames only once the first line made this a JSON session: never from nc.
  const binary = () => s.mode === "json" && s.modeChosen;
  const splitter = new LineSplitter(hub.limits.maxFrameBytes, binary, takeBuffer);
  let buf = new Uint8Array(MIN_READ_BYTES);
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
      // Until the first line has chosen the session's mode (and with it whether a 0x01 after
      // it starts a binary frame: never on a plain-text session), frames are cut one at a
      // time as each is handled; after that, a read's frames at once (no generator per read).
      const bytes = buf.subarray(0, n);
      for (const ev of s.modeChosen ? splitter.push(bytes) : splitter.frames(bytes)) {
        if (s.closed) break;
        if (ev.kind === "oversize") {
          const max = hub.limits.maxFrameBytes;
          hub.error(s, "FRAME_TOO_LARGE", `a line exceeded ${max} bytes`);
        } else {
          // Heard only on whole frames: a line that never ends keeps nothing alive.
          hub.guard.heard(s);
          const pending = ev.kind === "line"
            ? handleLine(hub, s, ev.bytes)
            : handleBinary(hub, s, ev.bytes);
          if (pending) await pending;
        }
      }
      // Sized to the traffic (see MIN_READ_BYTES), after this read's bytes were used.
      if (n === buf.length && n < MAX_READ_BYTES) buf = new Uint8Array(n * 2);
      else if (n < MIN_READ_BYTES / 2 && buf.length > MIN_READ_BYTES) {
        buf = new Uint8Array(MIN_READ_BYTES);
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
