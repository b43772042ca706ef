/** The queue plugin's client half: /queue [join|leave|open|close|stats], /next, /done. */
import { type ClientApi, UsageError } from "../types.ts";
import {
  QueueClose,
  QueueClosed,
  QueueDone,
  QueueJoin,
  QueueLeave,
  QueueMoved,
  QueueNext,
  QueueOpen,
  QueueReady,
  QueueStats,
  QueueStatus,
  QueueWaiting,
  waitText,
} from "./protocol.ts";

const min = (ms: number) => `${Math.round(ms / 60_000)} min`;

export function queueClient(api: ClientApi) {
  api.command({
    name: "queue",
    usage: "/queue [join <topic> | leave | open [room] | close | stats]",
    summary: "office hours: your place and the wait; join or leave; (staff) open, close, stats",
    async run(input, ctx) {
      const [what, ...rest] = input.args;
      const n = ctx.ui.notice;
      switch (what?.toLowerCase()) {
        case undefined: {
          const s = await ctx.request(QueueStatus, {});
          if (!s.open) return n("office hours are not open");
          if (s.position === undefined) return n(`${s.waiting} waiting; /queue join <topic>`);
          return n(`${s.position} in line of ${s.waiting}, ${waitText(s.waitMs)}`);
        }
        case "join": {
          const topic = input.tail(1) || undefined;
          const a = await ctx.request(QueueJoin, { topic });
          return n(`in the queue: ${a.position} in line, ${waitText(a.waitMs)}`);
        }
        case "leave":
          await ctx.request(QueueLeave, {});
          return n("left the queue");
        case "open":
          await ctx.request(QueueOpen, { room: rest[0] });
          return n("office hours are open; /next takes the first in line");
        case "close": {
          const a = await ctx.request(QueueClose, {});
          return n(`office hours closed (${a.left} were waiting)`);
        }
        case "stats": {
          const s = await ctx.request(QueueStats, {});
          const waits = s.medianWaitMs === undefined
            ? ""
            : `, waits: median ${min(s.medianWaitMs)}, longest ${min(s.maxWaitMs!)}`;
          return n(`today: ${s.served} helped, ${s.waiting} waiting${waits}`);
        }
      }
      throw new UsageError();
    },
  });
  api.command({
    name: "next",
    usage: "/next",
    summary: "(staff) take the first in the office-hours queue; they are told you are ready",
    async run(_input, ctx) {
      const a = await ctx.request(QueueNext, {});
      ctx.ui.notice(
        `helping ${a.name}${a.topic ? ` (${a.topic})` : ""}, who waited ${min(a.waitedMs)};` +
          ` write to them with ${a.name}: ..., /done when finished`,
      );
    },
  });
  api.command({
    name: "done",
    usage: "/done",
    summary: "(staff) done with the student you are helping",
    async run(_input, ctx) {
      const a = await ctx.request(QueueDone, {});
      ctx.ui.notice(`done with ${a.name} (${a.minutes} min)`);
    },
  });
  api.on(
    QueueReady,
    (m, ui) =>
      ui.notice(
        `${ui.style.name(m.by)} is ready for you${m.room ? ` in #${m.room}` : ""}` +
          ` (write to them with ${m.by}: ...)`,
      ),
  );
  api.on(QueueMoved, (m, ui) => ui.notice(`now ${m.position} in line, ${waitText(m.waitMs)}`));
  api.on(QueueClosed, (_m, ui) => ui.notice("office hours closed; the queue was cleared"));
  api.on(QueueWaiting, (m, ui) => ui.notice(`${m.count} waiting in the office-hours queue`));
}
