/**
 * Shared CLI plumbing: option parsers that turn bad values into usage errors (exit 2), kept
 * apart from runtime failures (exit 1), as in cliffy's ValidationError vs. other errors.
 */
import { InvalidArgumentError } from "commander";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Port a server listens on and clients connect to unless told otherwise. */
export const DEFAULT_PORT = 5757;
export const DEFAULT_HOST = "127.0.0.1";

/** A usage mistake found after parsing (flags that do not go together): exit 2, not 1. */
export class UsageError extends Error {}

export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export const portOption = intOption(0, 65535);

export function describeError(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionRefused) {
    return "connection refused: is the server running?";
  }
  if (e instanceof Deno.errors.AddrInUse) return "address in use: is another server on this port?";
  if (e instanceof Error) return e.message;
  return String(e);
}
