/**
 * Loads npm:@peculiar/x509 on demand.
 *
 * The library depends on tsyringe, which refuses to load unless a Reflect metadata polyfill
 * ("reflect-metadata") is installed first. We install the four functions tsyringe actually
 * calls instead of adding a second dependency, and we load the library lazily: only a server
 * that generates its certificate (and tests) pay for it, a client never loads it.
 */
import type * as X509 from "@peculiar/x509";

export type X509Lib = typeof X509;

let loading: Promise<X509Lib> | undefined;

export function loadX509(): Promise<X509Lib> {
  installReflectMetadata();
  // A static specifier so that `deno compile` and `deno check` still see the dependency.
  loading ??= import("@peculiar/x509");
  return loading;
}

type MetadataReflect = {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  metadata?: (key: unknown, value: unknown) => (target: object) => void;
};

/** Minimal subset of the reflect-metadata API; leaves a real polyfill alone if one is present. */
function installReflectMetadata(): void {
  const r = Reflect as unknown as MetadataReflect;
  if (typeof r.getMetadata === "function") return;
  const store = new WeakMap<object, Map<unknown, unknown>>();
  r.defineMetadata = (key, value, target) => {
    let own = store.get(target);
    if (!own) store.set(target, own = new Map());
    own.set(key, value);
  };
  r.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  r.getMetadata = (key, target) => {
    // Like reflect-metadata: metadata is inherited along the prototype chain.
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
      const own = store.get(o);
      if (own?.has(key)) return own.get(key);
    }
    return undefined;
  };
  r.metadata = (key, value) => (target) => r.defineMetadata!(key, value, target);
}
