// Ghostplane's contract SDK for AssemblyScript: the host ABI as a typed API.
//
// A contract is a module that exports `call(): void` (every call) and optionally
// `init(): void` (once, at deploy); this file gives it what it needs:
//
//   Input      the call's input, read as little-endian fields (Reader)
//   Output     a little-endian encoder for return data and events (Writer)
//   storage    32-byte keys to byte values (read, write, remove; u64 helpers)
//   Context    caller, own account, block number and time, the call's value
//   Tokens     the contract's balances and moves (u128 amounts as two u64)
//   Calls      calls to other contracts, with or without value; their status
//              and return (or revert) data
//   emit       an event: a 32-byte topic and data
//   ret        the call's return data
//   fail       revert with a message (all the call's writes roll back)
//
// Build with `--runtime stub --use abort=` (see build.mjs): no allocator frees,
// which a call's short life does not need, and no `env.abort` import, which the
// executor does not offer (a failed assertion traps instead).

import * as env from "./env";

/** Reverts the call with `message` (its bytes are the revert data). */
export function fail(message: string): void {
  const bytes = String.UTF8.encode(message);
  env.revert(changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}

/** Reverts the call with `data` as its revert data (e.g. a callee's, passed on). */
export function failWith(data: Uint8Array): void {
  env.revert(data.dataStart, data.length);
  unreachable();
}

/** The call's input, read front to back; reading past the end reverts "bad input". */
export class Reader {
  private at: i32 = 0;
  constructor(public bytes: Uint8Array) {}

  static input(): Reader {
    const len = env.input_len();
    const bytes = new Uint8Array(len);
    if (len > 0) env.input_read(bytes.dataStart);
    return new Reader(bytes);
  }

  private take(n: i32): usize {
    if (this.at + n > this.bytes.length) fail("bad input");
    const ptr = this.bytes.dataStart + <usize>this.at;
    this.at += n;
    return ptr;
  }

  u8(): u8 { return load<u8>(this.take(1)); }
  u32(): u32 { return load<u32>(this.take(4)); }
  u64(): u64 { return load<u64>(this.take(8)); }
  bytes32(): Uint8Array { return this.bytesN(32); }
  bytesN(n: i32): Uint8Array {
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.take(n), n);
    return out;
  }
  /** Reverts "bad input" unless every byte was read. */
  end(): void { if (this.at != this.bytes.length) fail("bad input"); }
}

/** A little-endian encoder. */
export class Writer {
  private buf: Uint8Array = new Uint8Array(64);
  private len: i32 = 0;

  private room(n: i32): usize {
    if (this.len + n > this.buf.length) {
      const bigger = new Uint8Array(max(this.buf.length * 2, this.len + n));
      memory.copy(bigger.dataStart, this.buf.dataStart, this.len);
      this.buf = bigger;
    }
    const ptr = this.buf.dataStart + <usize>this.len;
    this.len += n;
    return ptr;
  }

  u8(v: u8): Writer { store<u8>(this.room(1), v); return this; }
  u32(v: u32): Writer { store<u32>(this.room(4), v); return this; }
  u64(v: u64): Writer { store<u64>(this.room(8), v); return this; }
  bytes(v: Uint8Array): Writer {
    memory.copy(this.room(v.length), v.dataStart, v.length);
    return this;
  }
  finish(): Uint8Array { return this.buf.subarray(0, this.len); }
}

/** A 32-byte key: `prefix` then `fields` little-endian. */
export function key(prefix: u8, a: u32 = 0, b: u32 = 0): Uint8Array {
  const k = new Uint8Array(32);
  k[0] = prefix;
  store<u32>(k.dataStart + 1, a);
  store<u32>(k.dataStart + 5, b);
  return k;
}

/** Contract storage: 32-byte keys, values of at most 1 KiB. */
export namespace storage {
  /** The value under `k`, or null if the key is absent. */
  export function read(k: Uint8Array): Uint8Array | null {
    const buf = new Uint8Array(1024);
    const len = env.storage_read(k.dataStart, buf.dataStart, buf.length);
    if (len < 0) return null;
    return buf.subarray(0, len);
  }
  export function write(k: Uint8Array, value: Uint8Array): void {
    env.storage_write(k.dataStart, value.dataStart, value.length);
  }
  export function remove(k: Uint8Array): void {
    env.storage_delete(k.dataStart);
  }
  /** A u64 value (0 if absent). */
  export function readU64(k: Uint8Array): u64 {
    const v = read(k);
    if (v == null || v.length != 8) return 0;
    return load<u64>(v.dataStart);
  }
  export function writeU64(k: Uint8Array, v: u64): void {
    const buf = new Uint8Array(8);
    store<u64>(buf.dataStart, v);
    write(k, buf);
  }
  export function has(k: Uint8Array): bool {
    return env.storage_read(k.dataStart, 0, 0) >= 0;
  }
}

/** Who and when. */
export namespace Context {
  /** The immediate caller's account id. */
  export function caller(): u32 { return <u32>env.caller(); }
  /** This contract's own account id. */
  export function selfAccount(): u32 { return <u32>env.self_account(); }
  export function blockNumber(): i64 { return env.block_number(); }
  export function blockTimeMs(): i64 { return env.block_time(); }
}

/** A token amount: a u128 as two u64 halves. */
export class Amount {
  constructor(public lo: u64 = 0, public hi: u64 = 0) {}
  isZero(): bool { return this.lo == 0 && this.hi == 0; }
}

/** The contract's tokens: 0 GCC, 1 SPIRIT, 2 MANA, 3 GHOST. */
export namespace Tokens {
  /** The value that came with this call (token, amount); amount 0 if none. */
  export function received(): Amount {
    const buf = new Uint8Array(16);
    env.call_value(buf.dataStart);
    return new Amount(load<u64>(buf.dataStart), load<u64>(buf.dataStart + 8));
  }
  /** The token of the value that came with this call (0 if none). */
  export function receivedToken(): i32 {
    const buf = new Uint8Array(16);
    return env.call_value(buf.dataStart);
  }
  export function balance(token: i32): Amount {
    const buf = new Uint8Array(16);
    if (env.balance(token, buf.dataStart) != 0) fail("bad token");
    return new Amount(load<u64>(buf.dataStart), load<u64>(buf.dataStart + 8));
  }
  /** Moves `amount` of `token` to account `to`; the host's status (0: moved). */
  export function transfer(to: u32, token: i32, amount: Amount): i32 {
    const buf = new Uint8Array(16);
    store<u64>(buf.dataStart, amount.lo);
    store<u64>(buf.dataStart + 8, amount.hi);
    return env.transfer(<i32>to, token, buf.dataStart);
  }
}

/** Emits an event: a 32-byte topic and its data. */
export function emit(topic: Uint8Array, data: Uint8Array): void {
  if (topic.length != 32) fail("topic must be 32 bytes");
  env.emit_event(topic.dataStart, data.dataStart, data.length);
}

/** A 32-byte topic from a short name (its UTF-8 bytes, zero-padded). */
export function topic(name: string): Uint8Array {
  const t = new Uint8Array(32);
  const bytes = Uint8Array.wrap(String.UTF8.encode(name));
  memory.copy(t.dataStart, bytes.dataStart, min(bytes.length, 32));
  return t;
}

/** Sets the call's return data. */
export function ret(data: Uint8Array): void {
  env.set_return(data.dataStart, data.length);
}

/** What a call to another contract gave back. */
export class CallResult {
  constructor(public status: i32, public data: Uint8Array) {}
  /** The callee returned (its effects stand). */
  ok(): bool { return this.status == Calls.SUCCESS; }
}

/** Calls to other contracts. A failed callee's effects (storage, events, moves,
 *  the value sent) roll back; the caller gets its status and decides. */
export namespace Calls {
  export const SUCCESS: i32 = 0;
  export const REVERTED: i32 = 1;
  export const OUT_OF_FUEL: i32 = 2;
  export const TRAPPED: i32 = 3;
  export const NO_CONTRACT: i32 = 4;
  export const TOO_DEEP: i32 = 5;
  export const INSUFFICIENT_BALANCE: i32 = 6;
  export const VALUE_REFUSED: i32 = 7;
  /** Forward all the fuel the host allows (63/64 of what is left). */
  export const ALL_FUEL: i64 = -1;

  function returned(status: i32): CallResult {
    const len = env.return_data_len();
    const data = new Uint8Array(len);
    if (len > 0) env.return_data_read(data.dataStart);
    return new CallResult(status, data);
  }

  /** Calls the contract at `address` (32 bytes) with `input`. */
  export function call(address: Uint8Array, input: Uint8Array, fuel: i64 = ALL_FUEL): CallResult {
    if (address.length != 32) fail("address must be 32 bytes");
    return returned(env.call(address.dataStart, input.dataStart, input.length, fuel));
  }

  /** Calls it, moving `amount` of `token` from this contract to it first. */
  export function callWithValue(
    address: Uint8Array,
    input: Uint8Array,
    token: i32,
    amount: Amount,
    fuel: i64 = ALL_FUEL,
  ): CallResult {
    if (address.length != 32) fail("address must be 32 bytes");
    const buf = new Uint8Array(16);
    store<u64>(buf.dataStart, amount.lo);
    store<u64>(buf.dataStart + 8, amount.hi);
    return returned(
      env.call_with_value(address.dataStart, input.dataStart, input.length, fuel, token, buf.dataStart),
    );
  }
}
