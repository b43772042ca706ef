/** Pinned posts (/pin, /unpin, /pins) and what a new member is given of a room's past on
 *  their first join: its recent posts from before they joined (from the message log, through
 *  the "offline.posts" service) and its pins. */
import { type HandlerCtx, roomConversation } from "../types.ts";
import type { PostsService } from "../services.ts";
import {
  GroupMessage,
  GroupPin,
  GroupPinned,
  GroupPins,
  GroupUnpin,
  GroupUnpinned,
  GroupWelcome,
  type Pin,
} from "./protocol.ts";
import { Pins } from "./pins.ts";
import type { Room } from "./store.ts";
import type { Groups } from "./groups.ts";
import { JOIN_HISTORY, MAX_PINS, PINNED_TEXT_BUDGET } from "./limits.ts";

/** The message log's name for a room's conversation. */
export const roomConv = (r: Room) => roomConversation(r.name);

export function groupsPins(g: Groups) {
  const { api, rooms } = g;
  const pins = new Pins(api.db);
  const joinHistory = api.setting(JOIN_HISTORY);
  const maxPins = api.setting(MAX_PINS);
  const posts = () => api.service<PostsService>("offline.posts");
  pins.share(api.bus, (e) => api.log.error(`reading pins again: ${e}`));
  api.onStartup(() => pins.load());

  const moderated = (name: string, ctx: HandlerCtx): Room => {
    const r = rooms.find(name);
    if (!g.moderates(r, ctx.session.name!)) {
      ctx.fail("NOT_ALLOWED", `only an owner of #${r.name} or a server admin may pin`);
    }
    return r;
  };

  // groups.pin {room, seq?} -> ack {room, pin} | NO_SUCH_ROOM | NOT_ALLOWED | NO_SUCH_POST |
  //   TOO_MANY_PINS
  api.on(GroupPin, async ({ room, seq }, ctx) => {
    const r = moderated(room, ctx);
    const found = await posts()?.get(roomConv(r), seq);
    if (!found || found.frame.type !== GroupMessage.type) {
      return ctx.fail(
        "NO_SUCH_POST",
        seq === undefined ? `#${r.name} has no posts yet` : `#${r.name} has no post ${seq}`,
      );
    }
    const m = GroupMessage.decode(found.frame);
    const pin: Pin = {
      seq: found.seq,
      sender: m.sender,
      text: m.text,
      ts: m.ts,
      by: ctx.session.name!,
    };
    // From here to pins.add, no await: the limits hold however many pin at once.
    const had = pins.of(r.name).find((p) => p.seq === pin.seq);
    if (had) return { room: r.name, pin: had };
    if (pins.of(r.name).length >= maxPins) {
      ctx.fail(
        "TOO_MANY_PINS",
        `#${r.name} has ${maxPins} pinned posts, the most allowed; /unpin one`,
      );
    }
    if (pins.chars(r.name) + pin.text.length > PINNED_TEXT_BUDGET) {
      ctx.fail(
        "TOO_MANY_PINS",
        `#${r.name}'s pinned posts may hold ${PINNED_TEXT_BUDGET} characters in all; ` +
          `this one has ${pin.text.length}, ${PINNED_TEXT_BUDGET - pins.chars(r.name)} are left`,
      );
    }
    await pins.add(r.name, pin);
    g.push(r, GroupPinned, { room: r.name, pin }, ctx.session.name);
    return { room: r.name, pin };
  });

  // groups.unpin {room, seq} -> ack {room, seq} | NO_SUCH_ROOM | NOT_ALLOWED | NO_SUCH_POST;
  //   the members online but the unpinner get groups.unpinned {room, seq, by}
  api.on(GroupUnpin, async ({ room, seq }, ctx) => {
    const r = moderated(room, ctx);
    const me = ctx.session.name!;
    if (!(await pins.remove(r.name, seq))) {
      ctx.fail("NO_SUCH_POST", `post ${seq} is not pinned in #${r.name}`);
    }
    g.push(r, GroupUnpinned, { room: r.name, seq, by: me }, me);
    return { room: r.name, seq };
  });

  // groups.pins {room} -> ack {room, pins} | NO_SUCH_ROOM | NOT_A_MEMBER (private, outsider)
  api.on(GroupPins, ({ room }, ctx) => {
    const r = rooms.find(room);
    const me = ctx.session.name!;
    if (r.private && !g.isMember(r, me) && !api.accounts.isAdmin(me)) {
      ctx.fail("NOT_A_MEMBER", `#${r.name} is private and you are not in it`);
    }
    return { room: r.name, pins: pins.of(r.name) };
  });

  /** Gives `name`, who just joined `r` for the first time (Rooms.join's `first`: one who
   *  left or was kicked is given nothing of what was said while they were out), the room's
   *  last posts from before they joined (as history: the client does not count them as seen,
   *  so nothing is shown twice) and its pins, if they are online. Posts logged after the join
   *  reach them live or at catch-up. */
  return async (r: Room, name: string): Promise<void> => {
    const s = api.sessions.get(name);
    if (!s) return;
    const service = posts();
    const past = joinHistory > 0 && service
      ? (await service.unseen(roomConv(r), name, joinHistory))
        .filter((p) => p.frame.type === GroupMessage.type)
      : [];
    if (api.sessions.get(name) !== s) return;
    for (const p of past) {
      // No faster than they read: --join-history long posts may pass the send queue's bound.
      await api.writable(s);
      if (api.sessions.get(name) !== s) return;
      api.relay([s], { ...p.frame, seq: p.seq, replay: "history" });
    }
    const pinned = pins.of(r.name);
    if (past.length === 0 && pinned.length === 0) return;
    api.send(s, GroupWelcome, { room: r.name, history: past.length, pins: [...pinned] });
  };
}
