/** Rooms in the core's plain-text (nc/telnet) mode: the same commands as the client, one
 *  readable line per reply and per pushed frame. */
import type { ServerApi } from "../types.ts";
import {
  GroupInvited,
  GroupJoined,
  GroupKicked,
  GroupLeft,
  GroupList,
  GroupMembers,
  GroupMessage,
  GroupMode,
  GroupOpped,
  GroupPin,
  GroupPinned,
  GroupPins,
  GroupSend,
  GroupUnpinned,
  GroupWelcome,
  TO_ROOM_LINE,
} from "./protocol.ts";
import { memberFlags, pastText, pinLine, roomLine, unpinnedText } from "./lines.ts";

/** `/cmd` or `server:cmd`, as the core's own plain-text commands. */
const cmd = (name: string, rest: string) => new RegExp(`^(?:server:|\\/)${name}${rest}$`, "i");

export function groupsText(api: ServerApi) {
  const t = api.text;
  t.command({
    usage: "@<room> <message>",
    summary: "post to a room you are in",
    match: TO_ROOM_LINE,
    toFrame: (m) => ({ type: GroupSend.type, room: m[1], text: m[2] }),
    ack: (r) => `posted to #${r.room} (${r.sent} now, ${r.stored} later)`,
  });
  t.command({
    usage: "/create <room> [--private]",
    summary: "create a room; you own it",
    match: cmd("create", "\\s+(\\S+)(\\s+--private)?"),
    toFrame: (m) => ({ type: "groups.create", room: m[1], private: m[2] !== undefined }),
    ack: (r) => `created #${r.room}${r.private ? " (private)" : ""}`,
  });
  t.command({
    usage: "/join <room>  /leave <room>",
    summary: "join or leave a room",
    match: cmd("(join|leave|part)", "\\s+(\\S+)"),
    toFrame: (m) => ({
      type: m[1].toLowerCase() === "join" ? "groups.join" : "groups.leave",
      room: m[2],
    }),
    ack: (r) => r.members === undefined ? `left #${r.room}` : `joined #${r.room}`,
  });
  t.command({
    usage: "/rooms",
    summary: "rooms you may see",
    match: cmd("(?:rooms|groups)", ""),
    toFrame: () => ({ type: "groups.list" }),
    ack: (r) => {
      const rooms = GroupList.decodeAck(r).rooms;
      if (rooms.length === 0) return "no rooms yet";
      return rooms.map(roomLine)
        .join("\n");
    },
  });
  t.command({
    usage: "/members <room>",
    summary: "who is in a room",
    match: cmd("members", "\\s+(\\S+)"),
    toFrame: (m) => ({ type: "groups.members", room: m[1] }),
    ack: (r) => {
      const a = GroupMembers.decodeAck(r);
      return `#${a.room}: ` + a.members.map((m) => `${t.name(m.name)}${memberFlags(m)}`).join(", ");
    },
  });
  t.command({
    usage: "/kick|/op|/invite <room> <user>",
    summary: "moderate a room you own",
    match: cmd("(kick|op|invite)", "\\s+(\\S+)\\s+(\\S+)"),
    toFrame: (m) => ({ type: `groups.${m[1].toLowerCase()}`, room: m[2], name: m[3] }),
    ack: (r) => `ok: ${r.name}, #${r.room}`,
  });
  t.command({
    usage: "/announce <room> on|off",
    summary: "only owners and admins post when on",
    match: cmd("announce", "\\s+(\\S+)\\s+(on|off)"),
    toFrame: (m) => ({ type: "groups.announce", room: m[1], on: m[2].toLowerCase() === "on" }),
    ack: (r) => `#${r.room} is ${r.on ? "announce-only" : "open to every member's posts"}`,
  });

  t.command({
    usage: "/pin <room> [post]  /unpin <room> <post>",
    summary: "pin a room's latest post (or post n), or unpin one",
    match: cmd("(pin|unpin)", "\\s+(\\S+)(?:\\s+(\\d{1,15}))?"),
    toFrame: (m) => ({
      type: `groups.${m[1].toLowerCase()}`,
      room: m[2],
      ...(m[3] ? { seq: Number(m[3]) } : {}),
    }),
    ack: (r) =>
      r.pin === undefined
        ? `unpinned post ${r.seq} in #${r.room}`
        : `pinned in #${r.room}: ${pinLine(GroupPin.decodeAck(r).pin)}`,
  });
  t.command({
    usage: "/pins <room>",
    summary: "a room's pinned posts",
    match: cmd("pins", "\\s+(\\S+)"),
    toFrame: (m) => ({ type: "groups.pins", room: m[1] }),
    ack: (r) => {
      const a = GroupPins.decodeAck(r);
      return a.pins.length ? a.pins.map(pinLine).join("\n") : `no pinned posts in #${a.room}`;
    },
  });

  t.render(
    GroupMessage,
    (m) =>
      `[#${m.room}] ${t.name(m.sender)}: ${m.text}${
        m.replay === "history" && m.seq !== undefined ? `  (post ${m.seq})` : ""
      }`,
  );
  t.render(GroupPinned, (m) => `* ${m.pin.by} pinned in #${m.room}: ${pinLine(m.pin)}`);
  t.render(GroupUnpinned, (m) => `* ${unpinnedText(m)}`);
  t.render(GroupWelcome, (m) =>
    [
      ...(m.history ? [`* ${pastText(m)}`] : []),
      ...m.pins.map((p) => `* pinned in #${m.room}: ${pinLine(p)}`),
    ].join("\n"));
  t.render(GroupJoined, (m) => `* ${t.name(m.name)} joined #${m.room}`);
  t.render(
    GroupLeft,
    (m) =>
      m.by === undefined
        ? `* ${m.name} left #${m.room}`
        : `* ${m.name} was kicked from #${m.room} by ${m.by}`,
  );
  t.render(GroupKicked, (m) => `error KICKED: you were kicked from #${m.room} by ${m.by}`);
  t.render(GroupOpped, (m) => `* ${m.by} made ${m.name} an owner of #${m.room}`);
  t.render(
    GroupMode,
    (m) =>
      `* ${m.by} ${m.announce ? "made" : "opened"} #${m.room}${m.announce ? " announce-only" : ""}`,
  );
  t.render(GroupInvited, (m) => `* ${m.by} invited you to #${m.room}; /join ${m.room}`);
}
