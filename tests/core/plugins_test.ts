import assert from "node:assert/strict";
import { startServer, withServer } from "../harness.ts";
import { PLUGINS } from "../../plugins/mod.ts";
import { ChatServer } from "../../core/server/server.ts";
import { buildClientRegistry } from "../../core/client/registry.ts";
import { ClientApp } from "../../core/client/app.ts";
import { makeUi } from "../../core/client/terminal.ts";
import { message } from "../../protocol/spec.ts";
import type { Plugin } from "../../plugins/types.ts";
import { adminCommand } from "../../commands/admin.ts";

Deno.test("plugins - without dm (and encrypt, which requires it) the server works; dm is UNKNOWN_TYPE", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice", "Bob");
    assert.equal(await alice.fails("dm.send", { receiver: "Bob", text: "hi" }), "UNKNOWN_TYPE");
    assert.deepEqual((await alice.ok("presence.who")).users, ["Alice", "Bob"]);
  }, { plugins: PLUGINS.filter((p) => p.name !== "dm" && p.name !== "encrypt") }));

Deno.test("plugins - a plugin whose requirement is missing stops start-up with a clear error", async () => {
  await assert.rejects(
    startServer({ plugins: PLUGINS.filter((p) => p.name !== "dm") }),
    /plugin "encrypt" requires plugin "dm"/,
  );
});

Deno.test("plugins - with no plugins at all, login and ping still work", () =>
  withServer(async (h) => {
    const c = await h.connect();
    assert.deepEqual((await c.expect("welcome")).plugins, []);
    await c.login("Alice");
    await c.ok("session.ping");
    assert.equal(await c.fails("presence.who"), "UNKNOWN_TYPE");
  }, { plugins: [] }));

Deno.test("plugins - every client command has a usage and a summary, and /help lists it", async () => {
  const out: string[] = [];
  const app = new ClientApp({
    name: "x",
    server: "127.0.0.1:1",
    dial: () => Promise.reject(new Error("not used")),
    creds: { password: () => Promise.resolve(undefined) },
    plugins: PLUGINS,
    ui: makeUi((line) => out.push(line), false),
  });
  app.input("/help");
  await new Promise((r) => setTimeout(r, 10));
  for (const c of app.registry.commands) {
    assert.ok(
      out.some((l) => l.includes(c.usage) && l.includes(c.summary)),
      `/help lists /${c.name}`,
    );
  }
  out.length = 0;
  app.input("/help private");
  await new Promise((r) => setTimeout(r, 10));
  assert.match(out[0], /^\* \/msg <user> <text>/);
  assert.ok(app.registry.commands.length >= 4);
  for (const c of app.registry.commands) {
    assert.match(c.usage, new RegExp(`^/${c.name}\\b`), `usage of /${c.name}`);
    assert.ok(c.summary.length > 5, `summary of /${c.name}`);
  }
  for (const l of app.registry.lines) assert.ok(l.usage.length > 0);
});

Deno.test("plugins - a handler that throws is INTERNAL to the client, without a stack trace", () => {
  const Boom = message("boom.go", () => ({}));
  const boom: Plugin = {
    name: "boom",
    summary: "a plugin with a bug",
    server(api) {
      api.on(Boom, () => {
        throw new TypeError("cannot read properties of undefined (reading 'x')");
      });
      api.on(message("boom.later", () => ({})), async () => {
        await Promise.resolve();
        return JSON.parse("{") as never;
      });
      api.onLogin(() => {
        throw new Error("a login hook with a bug");
      });
    },
  };
  return withServer(async (h) => {
    const [alice] = await h.users("Alice");
    for (const type of ["boom.go", "boom.later"]) {
      const r = await alice.request(type);
      assert.deepEqual([r.type, r.code], ["error", "INTERNAL"]);
      assert.doesNotMatch(String(r.message), /TypeError|SyntaxError|\bat\b|\.ts/);
    }
    await alice.ok("session.ping"); // the hook failed, the login and the server did not
  }, { plugins: [...PLUGINS, boom] });
});

Deno.test("plugins - every plain-text command has usage and summary", async () => {
  const server = await ChatServer.start({ plugins: PLUGINS, logLevel: "silent" });
  try {
    for (const c of server.registry.textCommands) {
      assert.ok(c.usage.length > 0 && c.summary.length > 0, String(c.match));
    }
  } finally {
    await server.close();
  }
});

Deno.test("plugins - no two plugins may claim the same command", () => {
  const a: Plugin = { name: "a", summary: "a", client: (api) => api.command(cmd("same")) };
  const b: Plugin = {
    name: "b",
    summary: "b",
    client: (api) => api.command(cmd("other", ["same"])),
  };
  assert.throws(() => buildClientRegistry([a, b]), /claimed by both a and b/);
  assert.throws(() => buildClientRegistry([a], [cmd("same")]), /claimed by both/);
  assert.doesNotThrow(() => buildClientRegistry(PLUGINS));
});

Deno.test("plugins - a command without usage or summary is refused", () => {
  const p: Plugin = {
    name: "p",
    summary: "p",
    client: (api) => api.command({ ...cmd("x"), usage: "" }),
  };
  assert.throws(() => buildClientRegistry([p]), /lacks usage or summary/);
});

Deno.test("plugins - frame types: own namespace only, never claimed twice", async () => {
  const spec = message("shared.thing", () => ({}));
  const foreign: Plugin = { name: "a", summary: "a", server: (api) => api.on(spec, () => {}) };
  await assert.rejects(
    ChatServer.start({ plugins: [foreign], logLevel: "silent" }),
    /may not register/,
  );
  const twice: Plugin = {
    name: "shared",
    summary: "s",
    server(api) {
      api.on(spec, () => {});
      api.on(spec, () => {});
    },
  };
  await assert.rejects(
    ChatServer.start({ plugins: [twice], logLevel: "silent" }),
    /registered by both/,
  );
});

Deno.test("plugins - duplicate names and missing requirements fail start-up", async () => {
  const p = (name: string, requires?: string[]): Plugin => ({ name, summary: name, requires });
  await assert.rejects(
    ChatServer.start({ plugins: [p("a"), p("a")], logLevel: "silent" }),
    /twice/,
  );
  await assert.rejects(
    ChatServer.start({ plugins: [p("a", ["b"])], logLevel: "silent" }),
    /requires/,
  );
  await assert.rejects(
    ChatServer.start({ plugins: [p("session")], logLevel: "silent" }),
    /invalid/,
  );
});

Deno.test("plugins - the real list registers each frame type once, in its own namespace", async () => {
  const server = await ChatServer.start({ plugins: PLUGINS, logLevel: "silent" });
  try {
    for (const [type, entry] of server.registry.handlers) {
      assert.ok(type.startsWith(entry.plugin + "."), type);
    }
    assert.ok(server.registry.handlers.has("dm.send"));
    assert.ok(server.registry.handlers.has("presence.who"));
  } finally {
    await server.close();
  }
});

function cmd(name: string, aliases: string[] = []) {
  return { name, aliases, usage: `/${name}`, summary: `the ${name} command`, run() {} };
}

Deno.test("plugins - an operator command whose name is taken (the core's, another plugin's) is refused, named", () => {
  const op = (name: string) => ({ name, summary: "x", run: () => Promise.resolve([]) });
  const plugin = (name: string, ...ops: string[]): Plugin => ({
    name,
    summary: name,
    operator: ops.map(op),
  });
  assert.throws(
    () => adminCommand(() => {}, [plugin("rogue", "reset-password")]),
    /admin command "reset-password" of plugin rogue clashes with the core's/,
  );
  assert.throws(
    () => adminCommand(() => {}, [plugin("one", "add-ta"), plugin("two", "add-ta")]),
    /admin command "add-ta" of plugin two clashes with plugin one's/,
  );
  const names = adminCommand(() => {}).commands.map((c) => c.name());
  assert.ok(names.includes("add-staff") && names.includes("list-staff"), names.join(" "));
});
