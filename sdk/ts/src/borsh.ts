/**
 * The few borsh shapes Ghostplane's transactions use, written by hand: enums are
 * a u8 variant index then the variant's fields; integers little-endian; `Vec<u8>`
 * a u32 length then the bytes; `[u8; N]` raw. Bounds are checked on every write
 * so that a value the Rust side could not hold is refused here, not mis-encoded.
 */
import { toHex } from "./bytes.js";

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

/** Appends borsh values to a growing buffer. */
export class BorshWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${value} is not a u8`);
    this.#reserve(1);
    this.#buf[this.#len++] = value;
    return this;
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${value} is not a u32`);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setUint32(this.#len, value, true);
    this.#len += 4;
    return this;
  }

  u64(value: bigint): this {
    if (typeof value !== "bigint" || value < 0n || value > U64_MAX) throw new RangeError(`${value} is not a u64`);
    this.#reserve(8);
    new DataView(this.#buf.buffer).setBigUint64(this.#len, value, true);
    this.#len += 8;
    return this;
  }

  u128(value: bigint): this {
    if (typeof value !== "bigint" || value < 0n || value > U128_MAX) throw new RangeError(`${value} is not a u128`);
    return this.u64(value & U64_MAX).u64(value >> 64n);
  }

  /** `[u8; N]`: the bytes as they are. */
  fixed(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** `Vec<u8>`: u32 length, then the bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).fixed(bytes);
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads borsh values; every read checks that the bytes are there. */
export class BorshReader {
  #at = 0;
  readonly #view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(n: number): number {
    if (this.#at + n > this.bytes.length) {
      throw new RangeError(`borsh: ${n} bytes wanted at offset ${this.#at}, ${this.bytes.length - this.#at} left`);
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  u64(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  u128(): bigint {
    const lo = this.u64();
    return lo | (this.u64() << 64n);
  }

  fixed(n: number): Uint8Array {
    const at = this.#take(n);
    return this.bytes.slice(at, at + n);
  }

  /** `Vec<u8>`, at most `max` bytes. */
  bytesVec(max: number): Uint8Array {
    const len = this.u32();
    if (len > max) throw new RangeError(`borsh: a ${len}-byte vector is over its ${max}-byte bound`);
    return this.fixed(len);
  }

  /** Throws unless every byte was read (trailing bytes are malformed, as in Rust). */
  end(): void {
    if (this.#at !== this.bytes.length) {
      throw new RangeError(`borsh: ${this.bytes.length - this.#at} trailing bytes after ${toHex(this.bytes.subarray(0, 8))}…`);
    }
  }
}
