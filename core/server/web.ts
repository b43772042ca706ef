/**
 * The web client's listener: HTTPS with the server's own certificate (plain HTTP only under
 * --no-tls) on a port of its own, next to the chat port. It serves the page's files from
 * memory, given at start-up (bundled at build time: web/assets.ts; nothing is read from disk
 * or fetched at run time), and upgrades `GET /ws` to a WebSocket, which becomes a session
 * like any other (ws_conn.ts). Every answer carries a Content-Security-Policy that allows
 * scripts, styles and connections from this origin only, and no inline script.
 */
import { WebSocketConn } from "./ws_conn.ts";
import type { Logger } from "../log.ts";
import { ipLiteral } from "../tls/cert.ts";

/** One file of the page: its media type and bytes. */
export interface WebAsset {
  type: string;
  body: Uint8Array<ArrayBuffer>;
}

export interface WebListening {
  readonly addr: Deno.NetAddr;
  close(): Promise<void>;
}

/** What the page may do: its own scripts and styles, its own WebSocket, blob: downloads and
 *  images; nothing inline, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "x-frame-options": "DENY",
};

/** How long closing waits for the HTTP side (WebSocket sessions are closed before it). */
const SHUTDOWN_MS = 2000;

export function listenWeb(opts: {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  assets: ReadonlyMap<string, WebAsset>;
  /** The largest WebSocket message taken: the server's frame limit (ws_conn.ts). */
  maxMessageBytes: number;
  /** Host names the page is served under besides IP addresses (see hostAllowed). */
  names: readonly string[];
  onSocket: (conn: WebSocketConn) => void;
  /** GET /healthz: 200 when the node can take work, 503 when not, with why (JSON). */
  health?: () => Promise<{ ok: boolean } & Record<string, unknown>>;
  log: Logger;
}): Promise<WebListening> {
  const { assets, log } = opts;
  const handler = (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response | Promise<Response> => {
    const url = new URL(req.url);
    // DNS rebinding: another site's name pointed at this server would make its pages "same
    // origin" with it; only the server's own names and addresses are answered.
    if (!hostAllowed(url.hostname, opts.names)) {
      log.info(`web: refused a request for host ${url.hostname} (${info.remoteAddr.hostname})`);
      return answer(421, "this server does not answer for that name; use its address");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return answer(405, "method not allowed", { allow: "GET, HEAD" });
    }
    if (url.pathname === "/ws") return upgrade(req, info.remoteAddr);
    if (url.pathname === "/healthz" && opts.health) return healthz();
    const asset = assets.get(url.pathname === "/" ? "/index.html" : url.pathname);
    if (!asset) return answer(404, "not found");
    return new Response(req.method === "HEAD" ? null : asset.body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": asset.type,
        // The page changes with the server: revalidated on every load, never stale.
        "cache-control": "no-cache",
      },
    });
  };

  const healthz = async () => {
    const h = await opts.health!();
    return new Response(JSON.stringify(h), {
      status: h.ok ? 200 : 503,
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "application/json",
        "cache-control": "no-store",
      },
    });
  };

  const upgrade = (req: Request, remote: Deno.NetAddr): Response => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return answer(426, "this address takes WebSocket connections", { upgrade: "websocket" });
    }
    // A page from another origin must not drive a student's session with their cookies or
    // network position (cross-site WebSocket hijacking): its Origin is refused. Programs that
    // send no Origin are not browsers and carry no one else's credentials.
    const origin = req.headers.get("origin");
    const self = `${opts.tls ? "https" : "http"}://${req.headers.get("host")}`;
    if (origin !== null && origin !== self) {
      log.info(`web: refused a WebSocket from origin ${origin} (${remote.hostname})`);
      return answer(403, "this page's own origin only");
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    const conn = new WebSocketConn(socket, remote, opts.maxMessageBytes);
    conn.opened().then((open) => open && opts.onSocket(conn));
    return response;
  };

  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: opts.hostname,
        port: opts.port,
        ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
        onListen: () => {},
        onError: (e) => {
          log.error(`web: ${e}`);
          return answer(500, "internal error");
        },
      }, handler);
      resolve({
        addr: server.addr,
        close: () =>
          Promise.race([
            server.shutdown(),
            new Promise<void>((r) => setTimeout(r, SHUTDOWN_MS)),
          ]),
      });
    } catch (e) {
      reject(e);
    }
  });
}

/** An IP address (no rebinding through a literal address), or one of the server's names
 *  (`serve`'s certificate names: localhost, the machine's name, --tls-name). */
export function hostAllowed(host: string, names: readonly string[]): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (ipLiteral(h) !== undefined || h === "localhost") return true;
  return names.some((n) => n.toLowerCase() === h);
}

function answer(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...SECURITY_HEADERS, ...headers, "content-type": "text/plain; charset=utf-8" },
  });
}
