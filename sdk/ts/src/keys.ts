/**
 * ed25519 keys (RFC 8032, `@noble/curves`), as `crates/common/primitives/src/keys.rs`
 * has them: a key is its 32-byte seed; the public key is also the L1 address and
 * an L2 account's signer.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { blake3 } from "@noble/hashes/blake3.js";

import { type Hex, fixedBytes, toHex, utf8 } from "./bytes.js";

/** The blake3 derive-key context of the devnet's development accounts. */
const DEV_ACCOUNT_CONTEXT = "ghostplane devnet account v1";

/** An ed25519 key pair. */
export class Keypair {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The public key as `0x` hex. */
  readonly publicKeyHex: Hex;
  readonly #seed: Uint8Array;

  private constructor(seed: Uint8Array) {
    this.#seed = seed;
    this.publicKey = ed25519.getPublicKey(seed);
    this.publicKeyHex = toHex(this.publicKey);
  }

  /** The key with this 32-byte secret seed (RFC 8032 private key). */
  static fromSeed(seed: Uint8Array): Keypair {
    return new Keypair(Uint8Array.from(fixedBytes(seed, 32, "seed")));
  }

  /** A new key from the platform's random source. */
  static generate(): Keypair {
    return new Keypair(ed25519.utils.randomSecretKey());
  }

  /**
   * Development account `index` of a devnet: seed = blake3 derive-key("ghostplane
   * devnet account v1", index as u32 little-endian). Public seeds: tests only.
   */
  static dev(index: number): Keypair {
    return new Keypair(devSeed(index));
  }

  /** The secret seed. Keep it secret. */
  seed(): Uint8Array {
    return Uint8Array.from(this.#seed);
  }

  /** The 64-byte ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#seed);
  }
}

/** The seed of development account `index`. */
export function devSeed(index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new RangeError(`dev key index ${index} is not a u32`);
  }
  const input = new Uint8Array(4);
  new DataView(input.buffer).setUint32(0, index, true);
  return blake3(input, { context: utf8(DEV_ACCOUNT_CONTEXT) });
}

/** Whether `signature` is `publicKey`'s ed25519 signature of `message` (strict: ZIP-215 off). */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
