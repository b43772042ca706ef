/** presence: who is online (all of it), and join/leave notices to the people a user shares a
 *  room or a conversation with (ServerApi.related), coalesced per recipient (notices.ts). */
import type { Plugin, ServerApi, Session } from "../types.ts";
import {
  changesText,
  PresenceChanges,
  PresenceJoined,
  PresenceLeft,
  PresenceWho,
} from "./protocol.ts";
import { Notices, PRESENCE_WINDOW } from "./notices.ts";

export const presence: Plugin = {
  name: "presence",
  summary: "who is online; join and leave notices to the people you share a room or chat with",
  options: [PRESENCE_WINDOW],

  server(api) {
    const notices = new Notices(api, api.setting(PRESENCE_WINDOW));
    api.on(PresenceWho, () => ({ users: api.sessions.everyone() }));
    // Logins and logouts on other nodes of a cluster are told to the related users here.
    api.bus.subscribe("change", (m) => tellRelated(api, notices, undefined, m as Change));
    api.onLogin((s) => {
      tellRelated(api, notices, s, { name: s.name! });
      api.bus.publish("change", { name: s.name! });
    });
    api.onLogout((s, reason) => {
      notices.forget(s);
      // Everyone is leaving and is told why: n departures x n related users would be waste.
      if (reason === "SERVER_SHUTDOWN") return;
      tellRelated(api, notices, s, { name: s.name!, left: reason });
      api.bus.publish("change", { name: s.name!, left: reason });
    });
    api.onShutdown(() => notices.close());

    api.text.command({
      usage: "server:who",
      summary: "list who is online",
      match: /^(?:server:|\/)(?:who|users)$/i,
      toFrame: () => ({ type: PresenceWho.type }),
      ack: (r) => online(PresenceWho.decodeAck(r).users.map(api.text.name)),
    });
    api.text.render(PresenceJoined, (m) => `* ${api.text.name(m.name)} joined`);
    api.text.render(PresenceLeft, (m) => `* ${m.name} left (${m.reason})`);
    api.text.render(PresenceChanges, (m) => `* ${changesText(m)}`);
  },

  client(api) {
    api.command({
      name: "who",
      aliases: ["users", "online"],
      usage: "/who",
      summary: "list who is online",
      async run(_input, ctx) {
        const { users } = await ctx.request(PresenceWho, {});
        ctx.ui.notice(online(users.map(ctx.ui.style.name)));
      },
    });
    api.on(PresenceJoined, (m, ui) => ui.notice(`${ui.style.name(m.name)} joined`));
    api.on(PresenceLeft, (m, ui) => ui.notice(`${ui.style.name(m.name)} left (${m.reason})`));
    api.on(PresenceChanges, (m, ui) => ui.notice(changesText(m, ui.style.name)));
  },
};

type Change = { name: string; left?: string };

/** Tells the users related to `change.name` who are online here (not `s` itself, the session
 *  that came or went, if it is here) that it came or went. */
function tellRelated(api: ServerApi, notices: Notices, s: Session | undefined, change: Change) {
  for (const name of api.related(change.name)) {
    const to = api.sessions.get(name);
    if (to && to !== s) notices.tell(to, change);
  }
}

function online(users: string[]): string {
  return `online (${users.length}): ${users.join(", ")}`;
}
