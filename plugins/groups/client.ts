/** The groups plugin's client half: room commands, `@room text`, and how posts look. */
import { type ClientApi, type ClientCtx, UsageError } from "../types.ts";
import {
  GroupAnnounce,
  GroupCreate,
  GroupInvite,
  GroupInvited,
  GroupJoin,
  GroupJoined,
  GroupKick,
  GroupKicked,
  GroupLeave,
  GroupLeft,
  GroupList,
  GroupMembers,
  GroupMessage,
  GroupMode,
  GroupOp,
  GroupOpped,
  GroupSend,
  TO_ROOM_LINE,
} from "./protocol.ts";
import { memberCount, memberFlags, roomLine } from "./lines.ts";
import { groupsPinsClient } from "./client_pins.ts";

async function post(ctx: ClientCtx, room: string, text: string) {
  const ack = await ctx.request(GroupSend, { room, text });
  const later = ack.stored ? `, ${ack.stored} when they connect` : "";
  ctx.ui.line(`${ctx.ui.style.dim("->")} [#${ack.room}] ${text}`);
  ctx.ui.notice(`#${ack.room}: ${ack.sent} got it now${later}`);
}

export function groupsClient(api: ClientApi) {
  /** A command that takes one room name. */
  const roomCommand = (
    name: string,
    summary: string,
    run: (room: string, ctx: ClientCtx) => Promise<void>,
    aliases: string[] = [],
  ) =>
    api.command({
      name,
      aliases,
      usage: `/${name} <room>`,
      summary,
      run(input, ctx) {
        if (input.args.length !== 1) throw new UsageError();
        return run(input.args[0], ctx);
      },
    });

  api.command({
    name: "create",
    usage: "/create <room> [--private]",
    summary: "create a room; you join it and own it (private: members by /invite only)",
    async run(input, ctx) {
      const [room, flag, ...rest] = input.args;
      if (!room || rest.length || (flag !== undefined && flag !== "--private")) {
        throw new UsageError();
      }
      const ack = await ctx.request(GroupCreate, { room, private: flag !== undefined });
      const priv = ack.private ? " private room" : "";
      ctx.ui.notice(`created${priv} #${ack.room}; you are its owner`);
    },
  });
  roomCommand("join", "join a room", async (room, ctx) => {
    const ack = await ctx.request(GroupJoin, { room });
    ctx.ui.notice(`joined #${ack.room} (${memberCount(ack.members)})`);
  });
  roomCommand("leave", "leave a room", async (room, ctx) => {
    const ack = await ctx.request(GroupLeave, { room });
    ctx.ui.notice(`left #${ack.room}`);
  }, ["part"]);
  roomCommand("members", "who is in a room, and who of them is online", async (room, ctx) => {
    const ack = await ctx.request(GroupMembers, { room });
    const online = ack.members.filter((m) => m.online).length;
    const names = ack.members.map((m) => `${ctx.ui.style.name(m.name)}${memberFlags(m)}`);
    ctx.ui.notice(
      `#${ack.room}: ${memberCount(ack.members.length)}, ${online} online: ${names.join(", ")}`,
    );
  });
  api.command({
    name: "rooms",
    aliases: ["groups"],
    usage: "/rooms",
    summary: "list rooms, with member counts and whether you are in them",
    async run(_input, ctx) {
      const { rooms } = await ctx.request(GroupList, {});
      if (rooms.length === 0) return ctx.ui.notice("no rooms yet; /create <room> makes one");
      ctx.ui.notice(`rooms (${rooms.length}):`);
      for (const r of rooms) {
        ctx.ui.notice(`  ${roomLine(r)}`);
      }
    },
  });
  api.command({
    name: "group",
    aliases: ["g"],
    usage: "/group <room> <text>",
    summary: "post to a room (or type  @<room> <text>)",
    run(input, ctx) {
      const text = input.tail(1);
      if (input.args.length < 2 || !text) throw new UsageError();
      return post(ctx, input.args[0], text);
    },
  });
  api.line({
    usage: "@<room> <text>",
    summary: "post to a room you are in: @, the room's name, then the message (@cs350 hello)",
    match: TO_ROOM_LINE,
    run: (m, ctx) => post(ctx, m[1], m[2]),
  });

  groupsModerationClient(api);
  groupsPinsClient(api);

  // A past post (/history, or a room's past given to a new member) shows its number, which
  // /pin takes.
  api.on(GroupMessage, (m, ui) => {
    const id = m.replay === "history" && m.seq !== undefined
      ? ui.style.dim(`  (post ${m.seq})`)
      : "";
    ui.line(`[#${m.room}] ${ui.style.name(m.sender)}: ${m.text}${id}`);
  });
  api.on(GroupJoined, (m, ui) => ui.notice(`${ui.style.name(m.name)} joined #${m.room}`));
  api.on(GroupLeft, (m, ui) =>
    ui.notice(
      m.by === undefined
        ? `${ui.style.name(m.name)} left #${m.room}`
        : `${ui.style.name(m.name)} was kicked from #${m.room} by ${ui.style.name(m.by)}`,
    ));
  api.on(
    GroupKicked,
    (m, ui) =>
      ui.error(
        "KICKED",
        `you were kicked from #${m.room} by ${m.by}; an owner may /invite you back`,
      ),
  );
  api.on(
    GroupOpped,
    (m, ui) =>
      ui.notice(`${ui.style.name(m.by)} made ${ui.style.name(m.name)} an owner of #${m.room}`),
  );
  api.on(GroupMode, (m, ui) =>
    ui.notice(
      m.announce
        ? `${ui.style.name(m.by)} made #${m.room} announce-only: only owners and admins post`
        : `${ui.style.name(m.by)} opened #${m.room} to every member's posts`,
    ));
  api.on(
    GroupInvited,
    (m, ui) =>
      ui.notice(`${ui.style.name(m.by)} invited you to #${m.room}; /join ${m.room} to join`),
  );
}

/** /kick, /op, /invite, /announce: for a room's owners and server admins. */
function groupsModerationClient(api: ClientApi) {
  const moderation = (
    name: string,
    summary: string,
    spec: typeof GroupKick,
    done: (room: string, who: string) => string,
  ) =>
    api.command({
      name,
      usage: `/${name} <room> <user>`,
      summary,
      async run(input, ctx) {
        if (input.args.length !== 2) throw new UsageError();
        const ack = await ctx.request(spec, { room: input.args[0], name: input.args[1] });
        ctx.ui.notice(done(ack.room, ack.name));
      },
    });
  moderation(
    "kick",
    "remove someone from a room you own; they stay out until invited",
    GroupKick,
    (room, who) => `kicked ${who} from #${room}`,
  );
  moderation(
    "op",
    "make a member an owner of a room you own",
    GroupOp,
    (room, who) => `${who} is now an owner of #${room}`,
  );
  moderation(
    "invite",
    "let someone join a private room (or come back after a kick)",
    GroupInvite,
    (room, who) => `invited ${who} to #${room}`,
  );
  api.command({
    name: "announce",
    usage: "/announce <room> on|off",
    summary: "when on, only owners and admins may post: an announcement channel",
    async run(input, ctx) {
      const [room, mode] = input.args;
      if (input.args.length !== 2 || !/^(on|off)$/i.test(mode)) {
        throw new UsageError();
      }
      const ack = await ctx.request(GroupAnnounce, { room, on: mode.toLowerCase() === "on" });
      ctx.ui.notice(
        ack.on
          ? `#${ack.room} is announce-only: only owners and admins post`
          : `#${ack.room} is open to every member's posts`,
      );
    },
  });
}
