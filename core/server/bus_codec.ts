/**
 * A bus message as NATS carries it: JSON `{from, msg}`; or, when `msg.data` is bytes (a file
 * chunk relayed between nodes), the same JSON without them, then the bytes as they are:
 *
 *   u32 big-endian length of the JSON | JSON {from, msg} | data bytes
 *
 * so that 32 KiB of a file cost no base64 (44 KB) to encode, scan and decode on each node. A
 * JSON message starts with `{`; a framed one with its length's first byte, 0 (NATS refuses
 * payloads over 1 MiB).
 */

export interface BusEnvelope {
  from: string;
  msg: unknown;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const BRACE = 0x7b;

export function encodeBusMessage(from: string, msg: unknown): Uint8Array {
  const data = (msg as { data?: unknown } | null)?.data;
  if (!(data instanceof Uint8Array)) return enc.encode(JSON.stringify({ from, msg }));
  const { data: _bytes, ...rest } = msg as Record<string, unknown>;
  const head = enc.encode(JSON.stringify({ from, msg: rest }));
  const out = new Uint8Array(4 + head.length + data.length);
  new DataView(out.buffer).setUint32(0, head.length);
  out.set(head, 4);
  out.set(data, 4 + head.length);
  return out;
}

/** The message, or undefined if it is not one of ours (of another program on the subject). */
export function decodeBusMessage(bytes: Uint8Array): BusEnvelope | undefined {
  try {
    if (bytes[0] === BRACE) return envelope(JSON.parse(dec.decode(bytes)));
    const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
    if (4 + len > bytes.length) return undefined;
    const e = envelope(JSON.parse(dec.decode(bytes.subarray(4, 4 + len))));
    if (!e || typeof e.msg !== "object" || e.msg === null) return undefined;
    // A copy: the bytes outlive the NATS client's buffer (they are queued to a reader).
    (e.msg as Record<string, unknown>).data = bytes.slice(4 + len);
    return e;
  } catch {
    return undefined;
  }
}

function envelope(v: unknown): BusEnvelope | undefined {
  const from = (v as { from?: unknown } | null)?.from;
  return typeof from === "string" ? { from, msg: (v as { msg?: unknown }).msg } : undefined;
}
