/**
 * Acks are typed end to end: each request spec declares its ack's decoder, and the client
 * decodes every ack with it. What a server sends is untrusted, so an ack of the wrong shape
 * fails its request with BAD_FRAME (shown to the person, never used, never a crash) and the
 * connection goes on. The lying server is a proxy in front of a real one that rewrites the
 * acks of chosen request types; the client is the real one.
 */
import assert from "node:assert/strict";
import { ClientConnection } from "../../core/client/connection.ts";
import { SessionAccount, SessionLogin, SessionPing } from "../../protocol/core.ts";
import { ChatError } from "../../protocol/errors.ts";
import { encodeFrame } from "../../protocol/framing.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { DmSend } from "../../plugins/dm/protocol.ts";
import { GroupJoin, GroupList, GroupMembers, GroupPins } from "../../plugins/groups/protocol.ts";
import { EncryptKey } from "../../plugins/encrypt/protocol.ts";
import type { ClientCtx, ServerApi } from "../../plugins/types.ts";
import { appClient } from "../app.ts";
import { lines, write } from "../cut_proxy.ts";
import { withServer } from "../harness.ts";

const ack = (fields: Record<string, unknown>): RawFrame => ({ type: "ack", re: "c1", ...fields });

/** The decoder's refusal, as a ChatError code (undefined: it was accepted). */
function refusal(decode: () => unknown): string | undefined {
  try {
    decode();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ChatError, `not a ChatError: ${e}`);
    return e.code;
  }
}

Deno.test("ack decoders - read the declared fields and refuse a wrong shape with BAD_FRAME", () => {
  assert.deepEqual(GroupJoin.decodeAck(ack({ room: "cs350", members: 3 })), {
    room: "cs350",
    members: 3,
  });
  assert.equal(
    refusal(() => GroupJoin.decodeAck(ack({ room: "cs350", members: "3" }))),
    "BAD_FRAME",
  );
  assert.equal(refusal(() => GroupJoin.decodeAck(ack({ members: 3 }))), "BAD_FRAME");

  const member = { name: "Bob", online: true, owner: false, founder: false, admin: false };
  assert.deepEqual(
    GroupMembers.decodeAck(ack({ room: "lab", members: [member] })).members,
    [member],
  );
  // A non-array, or an entry that is no object, is a wrong shape, not a TypeError.
  for (const members of [undefined, "Bob", [1], [null], [["Bob"]], [{ ...member, owner: 1 }]]) {
    assert.equal(
      refusal(() => GroupMembers.decodeAck(ack({ room: "lab", members }))),
      "BAD_FRAME",
      JSON.stringify(members),
    );
  }
  assert.equal(refusal(() => GroupList.decodeAck(ack({}))), "BAD_FRAME");
  assert.equal(refusal(() => GroupPins.decodeAck(ack({ room: "lab", pins: [{}] }))), "BAD_FRAME");

  // Shown text is checked as in any frame: no escapes from a lying server.
  assert.equal(
    refusal(() => DmSend.decodeAck(ack({ receiver: "\x1b[2JBob", ts: 1, status: "sent" }))),
    "BAD_FRAME",
  );
  assert.deepEqual(DmSend.decodeAck(ack({ receiver: "Bob", ts: 1, status: "stored" })), {
    receiver: "Bob",
    ts: 1,
    seq: undefined,
    status: "stored",
  });
  assert.equal(
    refusal(() => SessionLogin.decodeAck(ack({ name: "Ann", created: "no", token: "t" }))),
    "BAD_FRAME",
  );
  assert.equal(refusal(() => EncryptKey.decodeAck(ack({ name: "Bob", key: 42 }))), "BAD_FRAME");
  assert.deepEqual(EncryptKey.decodeAck(ack({ name: "Bob", key: null })), {
    name: "Bob",
    key: null,
  });
  // A bare ack has no fields to read: whatever else it carries is ignored.
  assert.equal(SessionPing.decodeAck(ack({ extra: [1, 2] })), undefined);
});

/** Compile-time checks (`deno check tests/`), never run: a handler returns its spec's ack,
 *  and a request resolves with it. */
export function _acksAreTyped(api: ServerApi, ctx: ClientCtx) {
  api.on(GroupJoin, () => ({ room: "lab", members: 3 }));
  api.on(SessionPing, async () => {});
  // @ts-expect-error groups.join's ack counts its members: a number
  api.on(GroupJoin, () => ({ room: "lab", members: "3" }));
  // @ts-expect-error groups.join's ack has a room
  api.on(GroupJoin, () => Promise.resolve({ members: 3 }));
  // @ts-expect-error session.ping's ack has no fields to return
  api.on(SessionPing, () => ({ pong: true }));
  return async () => {
    const members: number = (await ctx.request(GroupJoin, { room: "lab" })).members;
    const nothing: void = await ctx.request(SessionPing, {});
    return [members, nothing];
  };
}

/** A plain-TCP proxy in front of the real server that rewrites the acks of requests whose
 *  type has an entry in `lies` (by request id, as the client matches them). */
function lyingProxy(upstream: number, lies: Record<string, (ack: RawFrame) => RawFrame>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const links: Promise<unknown>[] = [];
  const accepting = (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: upstream });
      conns.push(client, server);
      /** Request id -> type, for the requests whose acks are rewritten. */
      const asked = new Map<unknown, string>();
      const up = lines(client, async (_, text) => {
        const f = JSON.parse(text) as RawFrame;
        if (lies[f.type] && f.id !== undefined) asked.set(f.id, f.type);
        await write(server, encodeFrame(f));
      });
      const down = lines(server, async (_, text) => {
        const f = JSON.parse(text) as RawFrame;
        const type = f.type === "ack" ? asked.get(f.re) : undefined;
        if (type !== undefined) asked.delete(f.re);
        await write(client, encodeFrame(type === undefined ? f : lies[type](f)));
      });
      links.push(Promise.race([up, down]).finally(() => closeAll([client, server])));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      closeAll(conns);
      await accepting;
      await Promise.allSettled(links);
    },
  };
}

function closeAll(conns: Deno.Conn[]) {
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed already */ }
  }
}

Deno.test("ack types - a malformed ack fails its request with BAD_FRAME; the connection goes on", () =>
  withServer(async (h) => {
    let lie = true;
    const proxy = lyingProxy(h.port, {
      "session.account": (f) => lie ? { ...f, exists: "yes" } : f,
    });
    const conn = await ClientConnection.open(
      await Deno.connect({ hostname: "127.0.0.1", port: proxy.port }),
    );
    try {
      await assert.rejects(
        conn.request(SessionAccount, { name: "Ann" }),
        (e) =>
          e instanceof ChatError && e.code === "BAD_FRAME" &&
          /session\.account.*"exists" must be true or false/.test(e.message),
      );
      lie = false;
      // The same connection, the same request: the true answer, typed.
      const { name, exists } = await conn.request(SessionAccount, { name: "Ann" });
      assert.deepEqual({ name, exists }, { name: "Ann", exists: false });
    } finally {
      conn.close();
      await conn.closed;
      await proxy.close();
    }
  }, { tls: false }));

Deno.test("ack types - the real client shows BAD_FRAME for a malformed ack and uses none of it", () =>
  withServer(async (h) => {
    const proxy = lyingProxy(h.port, {
      "groups.join": (f) => ({ ...f, members: "\x1b[31mall of them" }),
      "dm.send": ({ status: _, ...f }) => f,
    });
    const dial = (port: number) => () => Deno.connect({ hostname: "127.0.0.1", port });
    const bob = await appClient(h, "Bob", undefined, { dial: dial(h.port) });
    const ann = await appClient(h, "Ann", undefined, { dial: dial(proxy.port) });
    try {
      bob.type("/create lab");
      await bob.waitFor(/created #lab/);

      let mark = ann.out.length;
      ann.type("/join lab");
      await ann.waitFor(/^! BAD_FRAME: the server's answer to groups\.join is malformed/, mark);
      // The server did what was asked (Ann is in); the client just would not use the answer.
      ann.type("/members lab");
      await ann.waitFor(/^\* #lab: 2 members/, mark);
      assert.ok(!ann.out.slice(mark).some((l) => /joined #lab/.test(l)), ann.out.join("\n"));

      // A message (kept until answered, sent again after a drop) is answered once: the bad
      // answer ends it, and the next one goes out behind it.
      mark = ann.out.length;
      ann.type("Bob: hello");
      await ann.waitFor(/^! BAD_FRAME: the server's answer to dm\.send is malformed/, mark);
      ann.type("Bob: again");
      await bob.waitFor(/^Ann: again$/);
      assert.equal(bob.out.filter((l) => /^Ann: hello$/.test(l)).length, 1, bob.out.join("\n"));
      assert.ok(!ann.out.some((l) => /-> .*Bob: hello/.test(l)), ann.out.join("\n"));
      assert.ok(!ann.out.some((l) => l.includes("\x1b")), "a raw escape reached the screen");
    } finally {
      await ann.app.quit();
      await bob.app.quit();
      await proxy.close();
    }
  }, { tls: false }));
