/**
 * Robustness: seeded malformed input (tests/core/fuzz_gen.ts) from several connections at once
 * while well-behaved clients chat. The server must stay up, deliver every real message once
 * and in order, and never show a client a stack trace. FUZZ_SEED=<n> runs another seed (the
 * seed is in the test name); FUZZ_FRAMES=<n> another count.
 */
import assert from "node:assert/strict";
import { type Harness, pw, TestClient, withServer } from "../harness.ts";
import { Rng } from "../../bench/rng.ts";
import { VIOLATION_CODES } from "../../protocol/limits.ts";
import { generate } from "./fuzz_gen.ts";
import { FIELDS } from "./fuzz_values.ts";
import { FuzzConn } from "./fuzz_conn.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20260517);
const TARGET = Number(Deno.env.get("FUZZ_FRAMES") ?? 100_000);
/** Fuzz connections at once; each logs in first or not (chosen by the seed). */
const SLOTS = 6;
const MAX_FRAME = 64 * 1024;
const MAX_BAD = 2000;
const WELL = ["Alice", "Bob", "Carol"];
const ROOM = "wellroom";
/** The codes the router's checks give: each must have been reached. */
const REACHED = [...VIOLATION_CODES];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const enc = (s: string) => new TextEncoder().encode(s);
const add = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** Polls until ok() or ms passed. */
async function until(ok: () => boolean, what: string, ms = 10_000) {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
  }
}

interface Stats {
  frames: number;
  bytes: number;
  conns: number;
  kinds: Map<string, number>;
  codes: Map<string, number>;
  /** Frames the fuzz connections were sent, by type. */
  types: Map<string, number>;
  closes: Map<string, number>;
  leaks: string[];
}

/** One fuzz slot: connection after connection, each fed batches of malformed frames (split
 *  across writes at random) until its budget is spent or the server closes it. */
async function fuzzSlot(h: Harness, slot: number, st: Stats) {
  // Content comes from r alone, so each slot's stream of items is fixed by the seed; where the
  // server cuts connections depends on timing, and only moves connections' boundaries (rc),
  // and the transfer ids and chunk indexes FuzzConn.fill puts into file-transfer frames.
  const r = new Rng(SEED + slot * 7919);
  const rc = new Rng(~(SEED + slot * 7919));
  for (let gen = 0; st.frames < TARGET; gen++) {
    const c = await FuzzConn.open(h.port, h.caCert!);
    st.conns++;
    assert.ok(await c.waitFor((f) => f?.type === "welcome"), `slot ${slot}: no welcome`);
    if (rc.chance(0.5)) {
      const name = `fz${slot}n${gen}`;
      await c.write(
        enc(JSON.stringify({ type: "session.login", id: "in", name, password: pw(name) }) + "\n"),
      );
      let answer: Record<string, unknown> | undefined;
      await c.waitFor((f) => f?.re === "in" && Boolean(answer = f));
      assert.equal(answer?.type, "ack", `${name}: ${JSON.stringify(answer)}`);
    } else if (rc.chance(0.3)) {
      await c.write(enc("hello from netcat\n")); // plain-text mode
    }
    for (let budget = 200 + rc.int(4000); budget > 0 && st.frames < TARGET && !c.isClosed;) {
      const items = Array.from({ length: 20 + rc.int(200) }, () => generate(r, MAX_FRAME))
        .map((g) => g.kind === "file-stream" ? { ...g, bytes: c.fill(g.bytes) } : g);
      const batch = new Uint8Array(items.reduce((n, g) => n + g.bytes.length, 0));
      items.reduce((off, g) => (batch.set(g.bytes, off), off + g.bytes.length), 0);
      if (!await c.write(batch, rc)) break;
      // An offer's answer is awaited, so that its transfer id is known to later file frames.
      const offer = items.findLast((g) => g.kind === "file-stream" && g.offer)?.offer;
      if (offer && !c.textMode) await c.waitFor((f) => f?.re === offer, 500);
      for (const { kind } of items) {
        add(st.kinds, kind);
        if (kind !== "empty") st.frames++, budget--;
      }
      st.bytes += batch.length;
    }
    if (!c.isClosed) {
      // Still open after all that, as far as it knows: it must answer, unless the server is
      // closing it (its errors, a full send queue).
      const answered = await c.stillAnswers();
      assert.ok(answered || c.byServer, `slot ${slot}: a fuzzed connection stopped answering`);
    }
    c.close();
    await c.done;
    for (const [code, n] of c.codes) add(st.codes, code, n);
    for (const [type, n] of c.types) add(st.types, type, n);
    const how = c.byServer
      ? `closed by the server${c.readError ? ` (${c.readError})` : ""}`
      : "closed here";
    add(st.closes, c.closing ?? `${how}, no session.closing${c.textMode ? ", text mode" : ""}`);
    st.leaks.push(...c.leaks);
  }
}

/** Each well-behaved client sends a DM and a room post per round until the fuzzing ends;
 *  every one must be acked. Records what each recipient must get, in order. */
async function chat(well: TestClient[], sent: Map<string, string[]>, running: () => boolean) {
  const expect = (key: string, text: string) => sent.set(key, [...(sent.get(key) ?? []), text]);
  let i = 0;
  for (; running() || i < 50; i++) {
    await Promise.all(well.map(async (c, k) => {
      const me = WELL[k];
      const to = WELL[(k + 1 + (i % 2)) % WELL.length];
      const dm = `dm ${i} ${me} to ${to}`;
      assert.equal((await c.ok("dm.send", { receiver: to, text: dm })).status, "sent");
      expect(`${me}>${to}`, dm);
      const post = `post ${i} by ${me}`;
      await c.ok("groups.send", { room: ROOM, text: post });
      for (const other of WELL) if (other !== me) expect(`${me}>#${other}`, post);
    }));
    await sleep(40);
  }
  return i * 2 * well.length;
}

Deno.test(`fuzz - ${TARGET} malformed frames (seed ${SEED}) while clients chat: the server stays up, loses nothing, leaks no stack`, () =>
  withServer(async (h) => {
    for (const t of Object.keys(FIELDS)) assert.ok(h.server.registry.handlers.has(t), t);
    const well = await h.users(...WELL);
    await well[0].ok("groups.create", { room: ROOM, private: true });
    for (const c of well.slice(1)) {
      await well[0].ok("groups.invite", { room: ROOM, name: WELL[well.indexOf(c)] });
      await c.ok("groups.join", { room: ROOM });
    }
    const st: Stats = {
      frames: 0,
      bytes: 0,
      conns: 0,
      kinds: new Map(),
      codes: new Map(),
      types: new Map(),
      closes: new Map(),
      leaks: [],
    };
    // The core's log, watched: a handler or hook that threw, or a connection that failed, is
    // a bug even when the client saw nothing of it.
    const failures: string[] = [];
    const { warn } = h.server.log;
    h.server.log.error = (m) => failures.push(m);
    h.server.log.warn = (m) => (/failed/.test(m) && failures.push(m), warn(m));
    const sent = new Map<string, string[]>();
    const started = performance.now();
    let fuzzing = true;
    const chatting = chat(well, sent, () => fuzzing);
    try {
      await Promise.all(
        Array.from({ length: SLOTS }, (_, slot) =>
          fuzzSlot(h, slot, st).catch((e) => {
            st.frames = Infinity; // the other slots stop too
            throw e;
          })),
      );
    } finally {
      fuzzing = false;
    }
    const messages = await chatting;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `seed ${SEED}: ${st.frames} frames, ${(st.bytes / 2 ** 20).toFixed(1)} MiB, ` +
        `${st.conns} connections in ${seconds.toFixed(1)} s; ${messages} messages chatted\n kinds ${
          JSON.stringify(Object.fromEntries(st.kinds))
        }\n codes ${JSON.stringify(Object.fromEntries(st.codes))}\n types ${
          JSON.stringify(Object.fromEntries(st.types))
        }\n closes ${JSON.stringify(Object.fromEntries(st.closes))}`,
    );
    assert.ok(st.frames >= TARGET);
    assert.deepEqual(st.leaks.slice(0, 3), [], `seed ${SEED}: stack traces or internals leaked`);
    assert.equal(st.codes.get("INTERNAL"), undefined, `seed ${SEED}: a handler failed on input`);
    for (const code of REACHED) assert.ok(st.codes.has(code), `seed ${SEED}: never got ${code}`);
    assert.deepEqual(failures.slice(0, 3), [], `seed ${SEED}: the server logged failures`);
    assert.ok(st.closes.has("TOO_MANY_ERRORS"), "no connection was closed for its errors");
    // The file-transfer frames moved live transfers: chunks reached a receiver, acks came back.
    assert.ok(st.types.has("sendfile.credit"), "no fuzzed transfer was acknowledged");
    assert.ok(well[0].frames.some((f) => f.type === "sendfile.chunk"), "no chunk reached Alice");
    const left = new Set(
      well[0].frames.filter((f) => f.type === "presence.left").map((f) => f.reason),
    );
    for (const why of left) {
      assert.ok(
        ["TOO_MANY_ERRORS", "SEND_QUEUE_EXCEEDED", "disconnected"].includes(String(why)),
        `${why}`,
      );
    }

    // Every message reached every recipient once, in order; no error reached them.
    for (const [k, c] of well.entries()) {
      const me = WELL[k];
      for (const from of WELL.filter((n) => n !== me)) {
        const streams = [[`${from}>${me}`, "dm.message"], [`${from}>#${me}`, "groups.message"]];
        for (const [key, type] of streams) {
          const want = sent.get(key) ?? [];
          const got = () =>
            c.frames.filter((f) => f.type === type && f.sender === from).map((f) => f.text);
          await until(() => got().length >= want.length, `${key}: ${got().length}/${want.length}`);
          await sleep(50);
          assert.deepEqual(got(), want, key);
        }
      }
      const bad = c.frames.filter((f) => f.type === "error" || f.type === "session.closing");
      assert.deepEqual(bad, [], `${me} was sent an error`);
      assert.equal(c.isClosed, false, `${me} was disconnected`);
    }
    assert.ok(sent.size === 12 && [...sent.values()].every((l) => l.length >= 25));

    // Every fuzz session is gone; the server takes a new connection and login and answers.
    await until(() => h.server.sessions.all.size === WELL.length, "fuzz sessions closed");
    const [fresh] = await h.users("Fresh");
    assert.deepEqual((await fresh.ok("presence.who")).users, [...WELL, "Fresh"]);
    assert.deepEqual(Object.keys(Object.prototype), [], "Object.prototype was polluted");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }, {
    logLevel: (Deno.env.get("FUZZ_LOG") ?? "silent") as "silent",
    limits: {
      // The frame budget is on, above the default (50/s) so that most frames still reach the
      // decoders and handlers rather than all being RATE_LIMITED.
      framesPerSecond: 1000,
      frameBurst: 400,
      maxBadFramesPerMinute: MAX_BAD,
      loginFailuresPerAccount: 1e9,
      loginFailuresPerAddress: 1e9,
    },
  }));

Deno.test("limits - the 11th malformed frame in a minute closes the connection with TOO_MANY_ERRORS; others go on", () =>
  withServer(async (h) => {
    const [mallory, olive] = await h.users("Mallory", "Olive");
    await olive.ok("dm.send", { receiver: "Mallory", text: "hi" }); // related: Olive is told
    // One incident, two log lines (its first bad frame, its close): never one per frame.
    const logged: string[] = [];
    h.server.log.info = (m: string) => void logged.push(m);
    h.server.log.warn = (m: string) => void logged.push(m);
    await mallory.sendRaw("{not json\n".repeat(10));
    for (let i = 0; i < 10; i++) assert.equal((await mallory.expect("error")).code, "BAD_JSON");
    await mallory.ok("session.ping"); // ten are tolerated, and a good frame is no violation
    await mallory.sendRaw("{not json\n");
    assert.equal((await mallory.expect("session.closing")).code, "TOO_MANY_ERRORS");
    await until(() => mallory.isClosed, "the connection closed");
    const left = await olive.expect("presence.left");
    assert.deepEqual([left.name, left.reason], ["Mallory", "TOO_MANY_ERRORS"]);
    assert.deepEqual((await olive.ok("presence.who")).users, ["Olive"]);
    const about = logged.filter((l) => l.includes("(Mallory)"));
    assert.equal(about.length, 2, about.join("\n"));
    assert.match(about[0], /bad frame BAD_JSON/);
    assert.match(about[1], /closed after too many bad frames/);
  }));

Deno.test("limits - past the frame burst a frame is RATE_LIMITED with retryAfterMs; after that wait one is accepted", () =>
  withServer(async (h) => {
    const c = await h.connect();
    await c.expect("welcome");
    await c.sendRaw(
      Array.from({ length: 6 }, (_, i) => `{"type":"session.ping","id":"p${i}"}\n`).join(""),
    );
    for (let i = 0; i < 5; i++) await c.expect((f) => f.type === "ack" && f.re === `p${i}`);
    const e = await c.expect((f) => f.re === "p5");
    assert.equal(e.type, "error");
    assert.equal(e.code, "RATE_LIMITED");
    assert.equal(typeof e.retryAfterMs, "number");
    assert.ok(
      (e.retryAfterMs as number) > 0 && (e.retryAfterMs as number) <= 1000,
      `${e.retryAfterMs}`,
    );
    await sleep(e.retryAfterMs as number);
    await c.ok("session.ping");
  }, { limits: { framesPerSecond: 5, frameBurst: 5 } }));

Deno.test("limits - a connection closed for its errors while it is still sending gets its session.closing (half-close, not a reset)", () =>
  withServer(async (h) => {
    // Thousands of bad lines unread by their sender, then megabytes more still coming when
    // the server closes: a plain close() would reset the connection and destroy the queued
    // answers, the closing frame with them.
    const c = await TestClient.connect(h.port, { read: false, caCert: h.caCert });
    const writing = c.sendRaw("{not json\n".repeat(3000) + "\n".repeat(4 << 20)).catch(() => {});
    await sleep(1000);
    c.startReading();
    await writing;
    await c.closed;
    // The allowance refills a little while they are read, so a few more than 2000 are answered.
    assert.ok(c.frames.filter((f) => f.code === "BAD_JSON").length > 2000);
    const last = c.frames.at(-1)!;
    assert.deepEqual([last.type, last.code], ["session.closing", "TOO_MANY_ERRORS"]);
  }, { limits: { maxBadFramesPerMinute: 2000 } }));
