/** Names (`docs/naming.md`): `alice.ghost` → owner, manager, expiry and records, as ghostd resolves them. */
import type { L1Client, NameView } from "./l1.js";

/** Resolves `name` (`naming_resolve`), or `null` if it is unregistered or released. */
export function resolveName(l1: L1Client, name: string): Promise<NameView | null> {
  return l1.resolveName(name);
}

/** The primary name of an L1 key, only if its address record points back (`naming_reverse`). */
export function reverseName(l1: L1Client, key: Uint8Array | string): Promise<string | null> {
  return l1.namingReverse(key);
}
