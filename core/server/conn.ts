/**
 * The part of a connected socket the server uses: a Deno.Conn (plain TCP) has it, and
 * TlsServerConn gives it to a node:tls socket (tls/server_conn.ts). Also the address key that
 * per-address limits count by.
 */

export interface Conn {
  /** Bytes into p; null once the peer has closed (or the socket was closed here). */
  read(p: Uint8Array): Promise<number | null>;
  /** Resolves with p.length once the bytes are handed to the kernel. */
  write(p: Uint8Array): Promise<number>;
  /** Half-close: no more bytes from here, reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes at once (bytes still queued may be lost); frees the socket. */
  close(): void;
  readonly remoteAddr: Deno.Addr;
}

/** `::ffff:10.0.0.7` (an IPv4 peer of a dual-stack listener) is 10.0.0.7. */
export function unmapped(hostname: string): string {
  return hostname.startsWith("::ffff:") && hostname.includes(".") ? hostname.slice(7) : hostname;
}

/**
 * The key per-address limits count a client by: its IPv4 address, or the /64 prefix of its
 * IPv6 address. One IPv6 host is routinely given a whole /64 (2^64 addresses), so counting
 * single IPv6 addresses would let one machine take every slot; Ergo counts /64 too.
 */
export function addressKey(hostname: string): string {
  const host = unmapped(hostname);
  if (!host.includes(":")) return host;
  const [head, tail = ""] = host.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = host.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return groups.slice(0, 4).map((g) => parseInt(g || "0", 16).toString(16)).join(":") + "::/64";
}
