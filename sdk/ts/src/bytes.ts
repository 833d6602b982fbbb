/**
 * Hex and byte helpers. Everything this package returns as hex is lowercase with
 * a `0x` prefix; everything it reads accepts hex with or without the prefix (the
 * nodes answer both spellings: `Hash32` prints `0x…`, raw byte strings do not).
 */

/** A `0x`-prefixed hex string. */
export type Hex = `0x${string}`;

/** Bytes as a `0x`-prefixed hex string or raw. */
export type BytesLike = Hex | string | Uint8Array;

const HEX_DIGITS = "0123456789abcdef";

/** `0x` + lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): Hex {
  let out = "0x";
  for (const b of bytes) out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return out as Hex;
}

/** Decodes hex (with or without `0x`); throws on odd length or a non-hex digit. */
export function fromHex(text: string): Uint8Array {
  const digits = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new TypeError(`not hex: ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + "…" : text)}`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Raw bytes of a hex string or a `Uint8Array`. */
export function toBytes(value: BytesLike): Uint8Array {
  return typeof value === "string" ? fromHex(value) : value;
}

/** Exactly `length` raw bytes; throws naming `what` otherwise. */
export function fixedBytes(value: BytesLike, length: number, what: string): Uint8Array {
  const bytes = toBytes(value);
  if (bytes.length !== length) throw new TypeError(`${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

/** The lowercase `0x` form of any hex spelling, or of raw bytes (for comparing node answers, and for RPC parameters). */
export function normalizeHex(value: BytesLike): Hex {
  return toHex(toBytes(value));
}

/** `a ‖ b ‖ …`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte-wise equality. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
