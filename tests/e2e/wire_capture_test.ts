/**
 * Transport encryption, seen on the wire: tshark captures the loopback traffic of a login and a
 * direct message, as a student running Wireshark on the campus network would see it. Under TLS
 * neither the message text nor the password may appear in any TCP payload; with `tls: false`
 * (the server's `--no-tls`) both must, which also proves the capture really saw the traffic.
 * Skipped when tshark is missing or may not capture on `lo` (it needs root or CAP_NET_RAW).
 */
import assert from "node:assert/strict";
import { pw, startServer } from "../harness.ts";

const CAPTURE_LIMIT_S = 20; // tshark stops by itself after this, whatever happens here
/** `-L` opens the interface, so it fails without capture permission; spawn throws if absent. */
async function canCaptureOnLo(): Promise<boolean> {
  try {
    const quiet = { stdout: "null", stderr: "null" } as const;
    return (await new Deno.Command("tshark", { args: ["-i", "lo", "-L"], ...quiet }).output())
      .success;
  } catch {
    return false;
  }
}
const canCapture = await canCaptureOnLo();

/** The TCP payload bytes tshark sees on `port` while `fn` runs. */
async function capturePayload(port: number, fn: () => Promise<void>): Promise<Uint8Array> {
  using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const knockPort = probe.addr.port;
  const child = new Deno.Command("tshark", {
    args: ["-i", "lo", "-f", `tcp port ${port} or tcp port ${knockPort}`, "-a"]
      .concat([`duration:${CAPTURE_LIMIT_S}`, "-l", "-T", "fields", "-e", "tcp.srcport"])
      .concat(["-e", "tcp.dstport", "-e", "tcp.payload"]),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "", stderr = "", exited = false;
  const read = (s: ReadableStream<Uint8Array>, add: (t: string) => void) =>
    s.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream({ write: add }));
  const pumps = Promise.all([
    read(child.stdout, (t) => stdout += t),
    read(child.stderr, (t) => stderr += t),
    child.status.then(() => exited = true),
  ]);
  /** Opens and closes a connection to our probe port and waits (up to ms) until tshark prints
   *  it. tshark prints packets in capture order, so all captured before is printed by then. */
  const knock = async (ms: number) => {
    const from = stdout.lastIndexOf("\n") + 1;
    const knocked = new RegExp(`^\\d+\t${knockPort}\t`, "m");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: knockPort });
    (await probe.accept()).close();
    conn.close();
    for (const end = Date.now() + ms; Date.now() < end && !exited;) {
      if (knocked.test(stdout.slice(from))) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      const kill = (signal: Deno.Signal) => {
        try {
          child.kill(signal);
        } catch { /* already exited */ }
      };
      kill("SIGINT"); // tshark stops dumpcap and prints what it has left
      const timer = setTimeout(() => kill("SIGKILL"), 5000); // a hung tshark
      await pumps;
      clearTimeout(timer);
      return child.status;
    })();
  try {
    // "Capturing on 'Loopback: lo'" comes a little before packets really flow: knock until seen.
    for (let i = 0; !(await knock(200)); i++) {
      if (exited || i === 50) throw new Error(`tshark is not capturing:\n${stderr}`);
    }
    await fn();
    if (!(await knock(5000))) throw new Error(`tshark fell behind:\n${stderr}`);
    const status = await stop();
    assert.ok(status.success, `tshark failed (${status.code}):\n${stderr}`);
    const hex = stdout.split("\n").map((l) => l.split("\t"))
      .filter(([src, dst]) => src === String(port) || dst === String(port))
      .map(([, , payload]) => payload ?? "").join("");
    return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
  } finally {
    await stop();
  }
}

/** Logs Alice and Bob in, has Alice send Bob a unique text, and returns what the wire carried. */
async function captureDirectMessage(tls: boolean) {
  const h = await startServer(tls ? {} : { tls: false });
  const text = `secret-marker-${crypto.randomUUID()}`;
  try {
    const payload = await capturePayload(h.port, async () => {
      const [alice, bob] = await h.users("Alice", "Bob");
      await alice.ok("dm.send", { receiver: "Bob", text });
      assert.equal((await bob.expect("dm.message")).text, text);
    });
    // latin1 maps each byte to one character, so includes() finds the exact byte sequence.
    return { wire: new TextDecoder("latin1").decode(payload), bytes: payload.length, text };
  } finally {
    await h.close();
  }
}

Deno.test({
  name: "wire: with TLS a sniffer sees neither the message nor the password",
  ignore: !canCapture,
  async fn() {
    const { wire, bytes, text } = await captureDirectMessage(true);
    assert.ok(bytes > 1000, `capture saw only ${bytes} payload bytes`);
    assert.equal(wire.charCodeAt(0), 0x16, "the first segment is not a TLS handshake record");
    assert.ok(!wire.includes(text), "the message text is readable on the wire");
    assert.ok(!wire.includes(pw("Alice")), "Alice's password is readable on the wire");
    assert.ok(!wire.includes(pw("Bob")), "Bob's password is readable on the wire");
    assert.ok(!wire.includes("dm.send"), "protocol frames are readable on the wire");
  },
});

Deno.test({
  name: "wire: with --no-tls the same capture shows the message and the password",
  ignore: !canCapture,
  async fn() {
    const { wire, text } = await captureDirectMessage(false);
    assert.ok(wire.includes(text), "the message text is missing from the capture");
    assert.ok(wire.includes(pw("Alice")), "Alice's password is missing from the capture");
    assert.ok(wire.includes(pw("Bob")), "Bob's password is missing from the capture");
  },
});
