/**
 * A byte-for-byte TCP proxy to a service on this machine (PostgreSQL, NATS), that a test can
 * take down and bring back: down, it drops every connection and refuses new ones, as a
 * database or bus that went away; up again, it relays as before.
 */
export interface TcpProxy {
  port: number;
  down(): void;
  up(): void;
  close(): void;
}

export function tcpProxy(upstream: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let isDown = false;
  (async () => {
    for await (const client of listener) {
      if (isDown) {
        client.close();
        continue;
      }
      Deno.connect({ hostname: "127.0.0.1", port: upstream }).then((server) => {
        open.add(client).add(server);
        const end = () => {
          for (const c of [client, server]) {
            open.delete(c);
            try {
              c.close();
            } catch { /* closed */ }
          }
        };
        client.readable.pipeTo(server.writable).catch(() => {}).finally(end);
        server.readable.pipeTo(client.writable).catch(() => {}).finally(end);
      }, () => client.close());
    }
  })().catch(() => {});
  const dropAll = () => {
    for (const c of open) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    open.clear();
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    down() {
      isDown = true;
      dropAll();
    },
    up() {
      isDown = false;
    },
    close() {
      isDown = true;
      dropAll();
      listener.close();
    },
  };
}
