/**
 * What the `borsh` package (near/borsh-js) leaves to its caller, and the schema
 * pieces the transaction and contract encodings share. borsh-js encodes and
 * decodes every shape Ghostplane uses; two checks it does not make are made here:
 *
 * - **Integer ranges, before encoding.** borsh-js writes integers unchecked: a
 *   u32 of 2^32 becomes 0, a negative u128 its two's complement. A value the
 *   Rust side could not hold is refused here (`RangeError`), not mis-encoded.
 * - **The end of the input, after decoding.** `deserialize` ignores bytes after
 *   the value. Rust refuses them (trailing bytes are malformed), so
 *   `decodeExact` re-encodes what it read and refuses a longer input.
 *
 * Callers bound the input's length before decoding (borsh-js itself allocates
 * no more than the input holds: a vector's length prefix is only trusted as far
 * as the bytes go).
 */
import { type Schema, deserialize, serialize } from "borsh";

/** `[u8; 32]`: hashes, public keys, addresses. */
export const BYTES32: Schema = { array: { type: "u8", len: 32 } };
/** `[u8; 64]`: ed25519 signatures. */
export const BYTES64: Schema = { array: { type: "u8", len: 64 } };
/** `Vec<u8>`: a u32 length, then the bytes. */
export const BYTE_VEC: Schema = { array: { type: "u8" } };

const U8_MAX = 0xff;
const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

/** `value` if it is a u8 (a `number`), else a `RangeError` naming `what`. */
export function u8(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > U8_MAX) throw new RangeError(`${what}: ${value} is not a u8`);
  return value;
}

/** `value` if it is a u32 (a `number`), else a `RangeError` naming `what`. */
export function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${what}: ${value} is not a u32`);
  return value;
}

/** `value` if it is a u64 (a `bigint`), else a `RangeError` naming `what`. */
export function u64(value: bigint, what: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) throw new RangeError(`${what}: ${value} is not a u64`);
  return value;
}

/** `value` if it is a u128 (a `bigint`), else a `RangeError` naming `what`. */
export function u128(value: bigint, what: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U128_MAX) throw new RangeError(`${what}: ${value} is not a u128`);
  return value;
}

/**
 * Decodes one `schema` value that must fill `bytes` exactly (a `RangeError`
 * naming `what` otherwise). The caller bounds `bytes.length` first.
 */
export function decodeExact<T>(schema: Schema, bytes: Uint8Array, what: string): T {
  let value: unknown;
  try {
    value = deserialize(schema, bytes);
  } catch (e) {
    // borsh-js throws plain `Error`s (and a `TypeError` for an enum tag one past
    // the last variant); all of them mean the bytes are not a `what`.
    throw new RangeError(`borsh: not a ${what}: ${(e as Error).message}`);
  }
  const read = serialize(schema, value).length;
  if (read !== bytes.length) throw new RangeError(`borsh: ${bytes.length - read} trailing bytes after a ${read}-byte ${what}`);
  return value as T;
}

/** Decoded `[u8; N]` or `Vec<u8>` (borsh-js gives a `number[]`) as bytes. */
export function bytesOf(decoded: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(decoded);
}
