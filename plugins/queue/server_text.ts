/** The queue plugin's plain-text (nc) commands and how its pushes read there. */
import type { ServerApi, TextCommand } from "../types.ts";
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

const ms = (n: number) => `${Math.round(n / 60_000)} min`;

export function queueText(api: ServerApi) {
  const cmd = (
    usage: string,
    summary: string,
    match: RegExp,
    toFrame: TextCommand["toFrame"],
    ack: NonNullable<TextCommand["ack"]>,
  ) => api.text.command({ usage, summary, match, toFrame, ack });
  cmd(
    "server:queue join [topic]",
    "join the office-hours queue",
    /^(?:server:|\/)queue\s+join(?:\s+(\S.*))?$/i,
    (m) => ({ type: QueueJoin.type, ...(m[1] ? { topic: m[1].trim() } : {}) }),
    (r) => `in the queue: ${r.position} in line, ${waitText(QueueJoin.decodeAck(r).waitMs)}`,
  );
  cmd("server:queue leave", "leave the queue", /^(?:server:|\/)queue\s+leave$/i, () => ({
    type: QueueLeave.type,
  }), () => "left the queue");
  cmd("server:queue", "your place in the queue", /^(?:server:|\/)queue$/i, () => ({
    type: QueueStatus.type,
  }), (r) => {
    const s = QueueStatus.decodeAck(r);
    if (!s.open) return "office hours are not open";
    if (s.position === undefined) return `${s.waiting} waiting; server:queue join <topic>`;
    return `${s.position} in line of ${s.waiting}, ${waitText(s.waitMs)}`;
  });
  cmd(
    "server:queue open [room]",
    "open office hours (staff)",
    /^(?:server:|\/)queue\s+open(?:\s+(\S+))?$/i,
    (m) => ({ type: QueueOpen.type, ...(m[1] ? { room: m[1] } : {}) }),
    () => "office hours are open",
  );
  cmd("server:queue close", "close office hours (staff)", /^(?:server:|\/)queue\s+close$/i, () => ({
    type: QueueClose.type,
  }), (r) => `office hours closed (${r.left} were waiting)`);
  cmd("server:queue stats", "today's waits (staff)", /^(?:server:|\/)queue\s+stats$/i, () => ({
    type: QueueStats.type,
  }), (r) => {
    const s = QueueStats.decodeAck(r);
    const waits = s.medianWaitMs === undefined
      ? ""
      : `, waits: median ${ms(s.medianWaitMs)}, longest ${ms(s.maxWaitMs!)}`;
    return `today: ${s.served} helped, ${s.waiting} waiting${waits}`;
  });
  cmd("server:next", "take the first in line (staff)", /^(?:server:|\/)next$/i, () => ({
    type: QueueNext.type,
  }), (r) => {
    const n = QueueNext.decodeAck(r);
    return `helping ${n.name}${n.topic ? ` (${n.topic})` : ""}, who waited ${ms(n.waitedMs)}`;
  });
  cmd(
    "server:done",
    "done with the student you are helping (staff)",
    /^(?:server:|\/)done$/i,
    () => ({
      type: QueueDone.type,
    }),
    (r) => `done with ${r.name} (${r.minutes} min)`,
  );
  api.text.render(
    QueueReady,
    (m) => `* ${api.text.name(m.by)} is ready for you${m.room ? ` in #${m.room}` : ""}`,
  );
  api.text.render(QueueMoved, (m) => `* now ${m.position} in line, ${waitText(m.waitMs)}`);
  api.text.render(QueueClosed, () => "* office hours closed; the queue was cleared");
  api.text.render(QueueWaiting, (m) => `* ${m.count} waiting in the office-hours queue`);
}
