/** The groups plugin's client half: room commands, `@room text`, and how posts look. */
import type { ClientApi, ClientCtx } from "../types.ts";
import {
  GroupCreate,
  GroupJoin,
  GroupJoined,
  GroupLeave,
  GroupLeft,
  GroupList,
  GroupMembers,
  GroupMessage,
  GroupSend,
  ListAck,
  MembersAck,
  SendAck,
  TO_ROOM_LINE,
} from "./protocol.ts";

async function post(ctx: ClientCtx, room: string, text: string) {
  const ack = SendAck.decode(await ctx.request(GroupSend, { room, text }));
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
        if (input.args.length !== 1) return ctx.ui.error("USAGE", `/${name} <room>`);
        return run(input.args[0], ctx);
      },
    });

  roomCommand("create", "create a room; you join it and own it", async (room, ctx) => {
    const ack = await ctx.request(GroupCreate, { room });
    ctx.ui.notice(`created #${ack.room}; you are its owner`);
  });
  roomCommand("join", "join a room", async (room, ctx) => {
    const ack = await ctx.request(GroupJoin, { room });
    ctx.ui.notice(`joined #${ack.room} (${ack.members} members)`);
  });
  roomCommand("leave", "leave a room", async (room, ctx) => {
    const ack = await ctx.request(GroupLeave, { room });
    ctx.ui.notice(`left #${ack.room}`);
  }, ["part"]);
  roomCommand("members", "who is in a room, and who of them is online", async (room, ctx) => {
    const ack = MembersAck.decode(await ctx.request(GroupMembers, { room }));
    const online = ack.members.filter((m) => m.online).length;
    const names = ack.members.map((m) =>
      `${ctx.ui.style.name(m.name)}${m.owner ? " (owner)" : ""}${m.online ? "" : " (away)"}`
    );
    ctx.ui.notice(
      `#${ack.room}: ${ack.members.length} members, ${online} online: ${names.join(", ")}`,
    );
  });
  api.command({
    name: "rooms",
    aliases: ["groups"],
    usage: "/rooms",
    summary: "list rooms, with member counts and whether you are in them",
    async run(_input, ctx) {
      const { rooms } = ListAck.decode(await ctx.request(GroupList, {}));
      if (rooms.length === 0) return ctx.ui.notice("no rooms yet; /create <room> makes one");
      ctx.ui.notice(`rooms (${rooms.length}):`);
      for (const r of rooms) {
        ctx.ui.notice(
          `  #${r.room}  ${r.members} members, ${r.online} online${
            r.joined ? "  (you are in it)" : ""
          }`,
        );
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
      if (input.args.length < 2 || !text) return ctx.ui.error("USAGE", "/group <room> <text>");
      return post(ctx, input.args[0], text);
    },
  });
  api.line({
    usage: "@<room> <text>",
    match: TO_ROOM_LINE,
    run: (m, ctx) => post(ctx, m[1], m[2]),
  });

  api.on(GroupMessage, (m, ui) => ui.line(`[#${m.room}] ${ui.style.name(m.sender)}: ${m.text}`));
  api.on(GroupJoined, (m, ui) => ui.notice(`${ui.style.name(m.name)} joined #${m.room}`));
  api.on(GroupLeft, (m, ui) => ui.notice(`${ui.style.name(m.name)} left #${m.room}`));
}
