// A counter: every call adds one and returns the new count (u64 LE). The same
// contract as crates/l2/executor/contracts/counter.wat, in AssemblyScript.
import { Writer, key, ret, storage } from "../assembly/index";

export function call(): void {
  const k = key(0);
  const next = storage.readU64(k) + 1;
  storage.writeU64(k, next);
  ret(new Writer().u64(next).finish());
}
