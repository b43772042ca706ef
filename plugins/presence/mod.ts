/** presence: who is online, and a notice to everyone when someone joins or leaves. */
import type { Plugin } from "../types.ts";
import { PresenceJoined, PresenceLeft, PresenceWho, WhoResult } from "./protocol.ts";

export const presence: Plugin = {
  name: "presence",
  summary: "who is online; join and leave notices",

  server(api) {
    api.on(PresenceWho, () => ({ users: api.sessions.names() }));
    api.onLogin((s) => api.broadcast(PresenceJoined, { name: s.name! }, s));
    api.onLogout((s, reason) => api.broadcast(PresenceLeft, { name: s.name!, reason }));

    api.text.command({
      usage: "server:who",
      summary: "list who is online",
      match: /^(?:server:|\/)(?:who|users)$/i,
      toFrame: () => ({ type: PresenceWho.type }),
      ack: (r) => online(WhoResult.decode(r).users),
    });
    api.text.render(PresenceJoined, (m) => `* ${m.name} joined`);
    api.text.render(PresenceLeft, (m) => `* ${m.name} left (${m.reason})`);
  },

  client(api) {
    api.command({
      name: "who",
      aliases: ["users", "online"],
      usage: "/who",
      summary: "list who is online",
      async run(_input, ctx) {
        const { users } = WhoResult.decode(await ctx.request(PresenceWho, {}));
        ctx.ui.notice(online(users.map(ctx.ui.style.name)));
      },
    });
    api.on(PresenceJoined, (m, ui) => ui.notice(`${ui.style.name(m.name)} joined`));
    api.on(PresenceLeft, (m, ui) => ui.notice(`${ui.style.name(m.name)} left (${m.reason})`));
  },
};

function online(users: string[]): string {
  return `online (${users.length}): ${users.join(", ")}`;
}
