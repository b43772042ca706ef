/**
 * The real client (ClientApp, with every plugin) in the test process, against a harness
 * server: for tests of client-side behaviour such as end-to-end encryption, where what the
 * person sees and what the server relays must both be checked.
 */
import { ClientApp } from "../core/client/app.ts";
import { makeUi } from "../core/client/terminal.ts";
import { setConfigDir } from "../core/config_dir.ts";
import { PLUGINS } from "../plugins/mod.ts";
import { type Harness, pw, testCertificate, WAIT_MS } from "./harness.ts";
import { clientConfigDir } from "./process.ts";

export interface AppClient {
  app: ClientApp;
  /** Every line the person would have seen, in order. */
  out: string[];
  /** The client's own config directory (keys, pins): its "computer". */
  config: string;
  type(line: string): void;
  /** Waits for a line matching re that arrived after `from` lines; returns it. */
  waitFor(re: RegExp, from?: number): Promise<string>;
}

/**
 * Starts a logged-in client. Its config directory is this module's (setConfigDir) and is read
 * while the client logs in (its keys are loaded then), so clients of one test start one at a
 * time. `dial` replaces the TLS connection to the harness server (a proxy, say); the client
 * still names that server, so its keys and pins are the server's.
 */
export async function appClient(
  h: Harness,
  name: string,
  config = clientConfigDir(),
  opts: {
    dial?: () => Promise<Deno.Conn>;
    pluginOptions?: Record<string, string[]>;
    /** Reconnect after a drop, as the CLI does. */
    reconnect?: boolean;
  } = {},
): Promise<AppClient> {
  const out: string[] = [];
  const { cert } = await testCertificate();
  setConfigDir(config);
  const app = new ClientApp({
    name,
    server: `127.0.0.1:${h.port}`,
    dial: opts.dial ??
      (() => Deno.connectTls({ hostname: "127.0.0.1", port: h.port, caCerts: [cert] })),
    plugins: PLUGINS,
    ui: makeUi((line) => out.push(line), false),
    creds: { password: ({ problem }) => Promise.resolve(problem ? undefined : pw(name)) },
    pluginOptions: opts.pluginOptions,
    reconnect: opts.reconnect,
  });
  if (!(await app.start())) throw new Error(`${name} could not log in:\n${out.join("\n")}`);
  return {
    app,
    out,
    config,
    type: (line) => app.input(line),
    async waitFor(re, from = 0) {
      const deadline = Date.now() + WAIT_MS;
      while (true) {
        const hit = out.slice(from).find((l) => re.test(l));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`${name}: no line ${re} in:\n${out.join("\n")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
