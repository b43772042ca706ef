/**
 * A logged-in benchmark user: connects, sends session.login, and sorts incoming frames. The
 * base class handles what every workload sees (welcome, login ack, presence, errors); dm's
 * subclass adds the hot path. Opening many peers goes through openAll, which caps the connects
 * in flight so a burst of thousands does not overrun the server's accept backlog.
 */
import { BenchClient, classify, type ClientHandler, type FrameKind, parseLine } from "./client.ts";
import type { Options } from "./args.ts";

export interface ConnectTarget {
  hostname: string;
  port: number;
  /** A cluster's nodes: the n-th peer opened goes to ports[n % length]. */
  ports?: number[];
  signal?: AbortSignal;
  readBufferBytes: number;
  caCert?: string;
}

/** Errors by code across all peers, shared so reports need not walk every peer. */
export class ErrorTally {
  total = 0;
  readonly codes: Record<string, number> = {};
  add(code: string): void {
    this.total++;
    this.codes[code] = (this.codes[code] ?? 0) + 1;
  }
}

const enc = new TextEncoder();

export class Peer implements ClientHandler {
  /** Set by a peer that reads binary frames; it then says so at login (see ClientHandler). */
  onBinary: ((bytes: Uint8Array) => void) | undefined;
  client: BenchClient | undefined;
  loggedIn = false;
  presenceFrames = 0;
  /** performance.now() of the read being processed (set once per read, see onChunk). */
  now = 0;
  /** performance.now() just before session.login was written: after connect and TLS. */
  loginSentAt: number | undefined;
  #login: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Set by quit: the server closing the connection is then expected, not a loss. */
  #quitting = false;

  constructor(
    readonly name: string,
    readonly errors: ErrorTally,
    /** Told when the server (not we) ends this connection, with the reason. */
    readonly onLost: (reason: string) => void,
  ) {}

  /** Connects and logs in; rejects on a refused connect, an error frame or a closed socket. */
  async open(target: ConnectTarget): Promise<void> {
    const loggedIn = new Promise<void>((resolve, reject) => (this.#login = { resolve, reject }));
    // It may reject while we are still writing the login; it is awaited below.
    loggedIn.catch(() => {});
    this.client = await BenchClient.connect(target, this);
    // Each name is a new account on a fresh server: its first login sets this password.
    const password = `bench-password-${this.name}`;
    const login = {
      type: "session.login",
      id: "login",
      name: this.name,
      password,
      ...(this.onBinary ? { binary: true } : {}),
    };
    this.loginSentAt = performance.now();
    if (!(await this.client.write(enc.encode(JSON.stringify(login) + "\n")))) {
      this.#loginFailed("could not send session.login");
    }
    await loggedIn;
  }

  /** Sends session.quit and resolves once the server has closed the connection, i.e. once it
   *  has released the name: from then on the account counts as offline. */
  async quit(): Promise<void> {
    const client = this.client;
    if (!client || client.closed) return;
    this.#quitting = true;
    if (!(await client.write(enc.encode('{"type":"session.quit","id":"quit"}\n')))) {
      client.close();
    }
    await client.done;
  }

  onChunk(now: number): void {
    this.now = now;
  }

  // An arrow so it can be handed to the scanner without a bind per read.
  onLine = (buf: Uint8Array, start: number, end: number): void => {
    this.frame(classify(buf, start, end), buf, start, end);
  };

  /** Subclasses handle their hot-path kinds first and defer the rest here. */
  protected frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "presence") this.presenceFrames++;
    else if (kind === "ack" && !this.loggedIn) this.#loggedIn();
    else if (kind !== "welcome" && kind !== "ack") {
      const f = parseLine(buf, start, end);
      if (f === undefined) this.errors.add("BENCH_UNPARSEABLE_FRAME");
      else this.parsed(f);
    }
  }

  /** A frame the fast path did not recognise, parsed as JSON. */
  protected parsed(f: Record<string, unknown>): void {
    if (f.type === "ack") {
      if (!this.loggedIn) this.#loggedIn();
    } else if (f.type === "error") {
      this.errors.add(String(f.code));
      if (!this.loggedIn && f.re === "login") this.#loginFailed(`login failed: ${f.code}`);
    } else if (f.type === "session.closing") {
      this.errors.add(`closing:${f.code}`);
    }
  }

  onClose(reason: string | undefined): void {
    if (reason === undefined || this.#quitting) return;
    if (!this.loggedIn) this.#loginFailed(reason);
    this.onLost(`${this.name}: ${reason}`);
  }

  #loggedIn(): void {
    this.loggedIn = true;
    this.#login?.resolve();
  }

  #loginFailed(why: string): void {
    this.#login?.reject(new Error(why));
    this.client?.close();
  }
}

/** Opens every peer with at most `concurrency` attempts in flight; returns the failures. */
export async function openAll(
  peers: Peer[],
  target: ConnectTarget,
  concurrency: number,
): Promise<{ failed: number; firstError: string | undefined }> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < peers.length && !target.signal?.aborted) {
      const i = next++;
      const p = peers[i];
      const port = target.ports?.length ? target.ports[i % target.ports.length] : target.port;
      try {
        await p.open({ ...target, port });
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, peers.length) }, worker));
  return { failed, firstError };
}

/** A short random tag so names from concurrent or repeated runs never collide. */
export function runTag(): string {
  return Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0");
}

/** Where and how every workload dials the server: TLS pinned to --tls-cert, else plain TCP. */
export async function serverTarget(o: Options, signal: AbortSignal, readBufferBytes: number) {
  const caCert = o.tlsCert === undefined ? undefined : await Deno.readTextFile(o.tlsCert);
  return { hostname: o.host, port: o.port, ports: o.ports, signal, readBufferBytes, caCert };
}
