/**
 * The sendfile plugin's server half. A file for someone online with the classchat client is
 * relayed live (relay.ts); a file for someone away, or for a room, is uploaded into the store
 * once (upload.ts, store.ts) and handed to each recipient when they are online (delivery.ts).
 * Either side leaving ends its transfers and tells the other. In a cluster, a receiver on
 * another node is relayed to over the bus (remote.ts), a kept file is in the shared store
 * (blobs.ts), and the nodes tell each other of files kept and verified.
 *
 * Bus topics besides remote.ts's: sendfile.kept {to: names} (files wait for them: look),
 * sendfile.verified {to, file, name, by, ok} (tell the sender, who is on that node).
 */
import type { ServerApi } from "../types.ts";
import type { Audience, RoomRefresh } from "../services.ts";
import { Flows, MAX_LIVE_INCOMING } from "./flow.ts";
import { Relay } from "./relay.ts";
import { type Offer, RelayOut, RemoteRelays } from "./remote.ts";
import { type Target, Upload } from "./upload.ts";
import { Deliveries } from "./delivery.ts";
import { FileStore } from "./store.ts";
import { FILE_QUOTA, FILE_TTL, MAX_FILE_SIZE, TRANSFER_TIMEOUT } from "./options.ts";
import {
  CHUNK_BYTES,
  FileAck,
  FileCancel,
  FileChunk,
  FileEnd,
  FileOffer,
  FileVerdict,
  FileVerified,
  MAX_TRANSFERS_PER_SESSION,
} from "./protocol.ts";

/** How often expired files are swept, at most (sooner for a short --file-ttl). */
const SWEEP_MS = 10 * 60 * 1000;

export function sendfileServer(api: ServerApi) {
  const flows = new Flows(api);
  const remote = new RemoteRelays(flows);
  const limits = {
    maxFileSize: api.setting(MAX_FILE_SIZE),
    quota: api.setting(FILE_QUOTA),
    ttlMs: api.setting(FILE_TTL),
  };
  const idleMs = api.setting(TRANSFER_TIMEOUT);
  // With an in-memory store the files go to a temporary directory, removed at shutdown.
  let dir = api.dataDir ? `${api.dataDir}/files` : "";
  let store!: FileStore;
  let deliveries!: Deliveries;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;

  api.onStartup(async () => {
    dir ||= await Deno.makeTempDir({ prefix: "classchat-files-" });
    store = new FileStore(api.db, dir, limits);
    deliveries = new Deliveries(api, flows, store);
    await store.open();
    await store.sweep();
    if (idleMs > 0) {
      watchdog = setInterval(() => flows.stopStalled(idleMs), Math.max(250, idleMs / 4));
    }
    if (limits.ttlMs > 0) {
      const every = Math.min(SWEEP_MS, Math.max(1000, limits.ttlMs / 4));
      sweeper = setInterval(() => {
        store.sweep().catch((e) => api.log.error(`sweeping kept files: ${e}`));
      }, every);
    }
  });
  api.onShutdown(async () => {
    clearInterval(sweeper);
    clearInterval(watchdog);
    if (!api.dataDir && dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  });
  api.onLogin((s) => deliveries.kick(s));

  /** Files were kept for `names`: deliver to those here, tell the nodes of the others. */
  const kept = (names: string[]) => {
    const elsewhere = new Map<string, string[]>();
    for (const r of names) {
      const s = api.sessions.get(r);
      if (s) deliveries.kick(s);
      const node = api.sessions.remoteNode(r);
      if (node !== undefined) elsewhere.set(node, [...elsewhere.get(node) ?? [], r]);
    }
    for (const [node, to] of elsewhere) api.bus.publish("kept", { to }, node);
  };
  api.bus.subscribe("kept", (m) => {
    const to = (m as { to?: unknown } | null)?.to;
    if (!Array.isArray(to)) return;
    for (const r of to) {
      const s = typeof r === "string" ? api.sessions.get(r) : undefined;
      if (s) deliveries.kick(s);
    }
  });
  api.bus.subscribe("verified", (m) => {
    const v = (m ?? {}) as Record<string, unknown>;
    const s = typeof v.to === "string" ? api.sessions.get(v.to) : undefined;
    if (!s) return;
    try {
      api.send(s, FileVerified, FileVerified.decode({ ...v, type: FileVerified.type }));
    } catch {
      api.log.error("sendfile: an unreadable sendfile.verified from another node");
    }
  });

  // sendfile.offer {to | room, name, size, sealed?} -> ack {file, chunk, window, stored}
  //   | NO_SUCH_USER | NO_SUCH_ROOM | NOT_A_MEMBER | KICKED | ANNOUNCE_ONLY
  //   | TOO_MANY_TRANSFERS | FILE_TOO_LARGE | QUOTA_EXCEEDED
  api.on(FileOffer, ({ to, room, name, size, sealed }, ctx) => {
    const me = ctx.session;
    if (flows.full(me)) {
      ctx.fail("TOO_MANY_TRANSFERS", `at most ${MAX_TRANSFERS_PER_SESSION} transfers at once`);
    }
    const offer: Offer = { name, size, sealed };
    const ack = (id: string, stored: boolean) => ({
      file: id,
      chunk: CHUNK_BYTES,
      window: flows.window,
      stored,
    });
    const upload = (target: Target) =>
      ack(new Upload(flows, store, me, target, offer, kept).id, true);
    // On a store nodes share, the space the others kept since is counted first.
    const keep = (target: Target) =>
      api.db.sharedByNodes ? store.counted().then(() => upload(target)) : upload(target);
    if (room !== undefined) {
      const audience = api.service<Audience>("groups.audience") ??
        ctx.fail("BAD_REQUEST", "this server has no rooms (its groups plugin is off)");
      // In a cluster the room is read again, at the offer and at the end: its members may
      // have joined on another node.
      const fresh = api.service<RoomRefresh>("groups.fresh") ?? (() => Promise.resolve());
      const start = () => {
        const label = `#${audience(room, me.name!).room}`;
        const recipients = () => fresh(room).then(() => audience(room, me.name!).to);
        return keep({ label, room: label.slice(1), recipients });
      };
      return api.bus.clustered ? fresh(room).then(start) : start();
    }
    const who = api.accounts.canonical(to!) ??
      ctx.fail("NO_SUCH_USER", `there is no user "${to}"`);
    const target = { label: who, recipients: () => Promise.resolve([who]) };
    // Away, on a plain-text connection, or busy receiving another file: kept for later; a
    // file too large to keep for someone busy is refused instead.
    const keepFor = (busy: boolean) => {
      if (busy && size > store.limits.maxFileSize) {
        ctx.fail("TOO_MANY_TRANSFERS", `${who} is receiving another file; try when it is done`);
      }
      return keep(target);
    };
    const node = api.sessions.remoteNode(who);
    if (node !== undefined) {
      return remote.offer(me, who, node, offer).then((answer) => {
        if (answer instanceof RelayOut) return ack(answer.id, false);
        if (api.sessions.get(me.name!) !== me) ctx.fail("TRANSFER_CANCELLED", "you left");
        return keepFor(answer.busy);
      });
    }
    const online = api.sessions.get(who);
    const live = online?.mode === "json" && online !== me;
    if (live && flows.liveIncoming(online) < MAX_LIVE_INCOMING && !flows.full(online)) {
      return ack(new Relay(flows, me, online, offer).id, false);
    }
    return keepFor(live);
  });

  // Chunks and their end come from the sending side; acks and verdicts from the receiving one.
  // Chunks and acks skip the frame budget while they move a transfer; a stray one (its
  // transfer ended: a few chunks in flight after a cancel are normal) or a repeated ack pays.
  api.on(FileChunk, ({ file, n, data }, ctx) => {
    const flow = flows.find(file, ctx.session, "from");
    if (flow) flow.chunk(n, data);
    else ctx.meter();
  });
  api.on(FileEnd, ({ file, sha256, check }, ctx) => {
    flows.find(file, ctx.session, "from")?.end(sha256, check);
  });
  api.on(FileAck, ({ file, n }, ctx) => {
    if (!flows.find(file, ctx.session, "to")?.ack(n)) ctx.meter();
  });
  api.on(FileVerdict, ({ file, ok }, ctx) => flows.find(file, ctx.session, "to")?.verdict(ok));

  // sendfile.cancel {file, reason}: either side; the other is told.
  api.on(FileCancel, ({ file, reason }, ctx) => {
    flows.find(file, ctx.session)?.stop(ctx.session, `${ctx.session.name} cancelled: ${reason}`);
  });

  api.onLogout((s) => {
    for (const f of flows.of(s)) f.stop(s, `${s.name} disconnected`);
  });
}
