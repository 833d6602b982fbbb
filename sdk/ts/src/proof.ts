/**
 * The L2 state commitment (`docs/state-commitment.md`, STARK backend) and the
 * check of an `l2_getProof` answer against it ("Answering l2_getProof"), ported
 * from the Rust reference (`crates/proof/prover/tests/reference/mod.rs` and
 * `check_proof` in `testing/tests/tests/devnet.rs`):
 *
 * ```text
 *   leaf(key, nonce, balances) ──climb 24 siblings by the account id's bits──▶ root   (= the L1's finalized root)
 *   contract: leaf.key == pack(sponge(address limbs, code-hash limbs, storageRoot, 3))
 *   slot(key, value | held | absent) ──climb 128 (compact) siblings by i(key)──▶ storageRoot
 * ```
 */
import { type BytesLike, type Hex, equalBytes, fixedBytes, fromHex, toBytes, toHex } from "./bytes.js";
import { ProofError } from "./errors.js";
import type { ProofView } from "./l2.js";
import { type Digest, P, compress, sponge } from "./poseidon2.js";

/** The account tree's depth. */
export const ACCOUNT_TREE_DEPTH = 24;
/** A contract storage tree's depth. */
export const STORAGE_TREE_DEPTH = 128;
/** `treeHash` of the STARK backend's tree, the one this module checks. */
export const STARK_TREE_HASH = "poseidon2-koalabear-binary-24";
/** `STORAGE_VALUE_BYTES_MAX`: the largest storage value. */
const STORAGE_VALUE_BYTES_MAX = 1024;

const MASK_16 = 0xffffn;
const MASK_30 = (1n << 30n) - 1n;
const MASK_31 = (1n << 31n) - 1n;

/** The bytes as a little-endian integer. */
function leInteger(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Nine limbs of 32 bytes read as a little-endian integer `K`: 30 bits each, the last `K >> 240`. */
export function limbs(bytes: Uint8Array): number[] {
  const k = leInteger(fixedBytes(bytes, 32, "limbs input"));
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(Number((k >> BigInt(30 * i)) & MASK_30));
  out.push(Number(k >> 240n));
  return out;
}

function limbs16(value: bigint, count: number, what: string): number[] {
  if (value < 0n || value >> BigInt(16 * count) !== 0n) throw new RangeError(`${what} ${value} does not fit ${16 * count} bits`);
  return Array.from({ length: count }, (_, j) => Number((value >> BigInt(16 * j)) & MASK_16));
}

/** The 48 elements of an account leaf: four balances (8 × 16-bit limbs), key limbs (9), nonce (4 × 16-bit), 3 zeros. */
export function leafFields(key: Uint8Array, nonce: bigint, balances: readonly bigint[]): number[] {
  if (balances.length !== 4) throw new RangeError(`an account has 4 balances, got ${balances.length}`);
  return [
    ...balances.flatMap((b, k) => limbs16(b, 8, `balance ${k}`)),
    ...limbs(key),
    ...limbs16(nonce, 4, "nonce"),
    0,
    0,
    0,
  ];
}

/** An account's leaf digest. */
export function accountLeaf(key: Uint8Array, nonce: bigint, balances: readonly bigint[]): Digest {
  return sponge(leafFields(key, nonce, balances));
}

function emptyLadder(leaf: Digest, depth: number): Digest[] {
  const out = [leaf];
  for (let h = 1; h <= depth; h++) out.push(compress(out[h - 1]!, out[h - 1]!));
  return out;
}

let accountEmpty: Digest[] | undefined;
let storageEmpty: Digest[] | undefined;

/** `empty[h]` of the account tree, `h` in 0..=24 (`empty[0]` = the leaf of 48 zeros). */
export function emptyAccountSubtrees(): readonly Digest[] {
  accountEmpty ??= emptyLadder(sponge(new Array<number>(48).fill(0)), ACCOUNT_TREE_DEPTH);
  return accountEmpty;
}

/** `empty[h]` of a storage tree, `h` in 0..=128 (`empty[0]` = the sponge of 16 zeros). */
export function emptyStorageSubtrees(): readonly Digest[] {
  storageEmpty ??= emptyLadder(sponge(new Array<number>(16).fill(0)), STORAGE_TREE_DEPTH);
  return storageEmpty;
}

/** A digest as its 32 wire bytes: `Σ d_i·2^(31i)`, big-endian (byte 0 is always 0). */
export function packDigest(d: Digest): Uint8Array {
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 31n) | BigInt(d[i]!);
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The digest 32 wire bytes hold; refuses a non-zero byte 0 or a field not below `p` (as `unpack_digest`). */
export function unpackDigest(bytes: Uint8Array): Digest {
  if (bytes.length !== 32) throw new ProofError(`a packed digest is 32 bytes, got ${bytes.length}`);
  if (bytes[0] !== 0) throw new ProofError(`${toHex(bytes)} is not a packed digest: byte 0 is not 0`);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const d: Digest = [];
  for (let i = 0; i < 8; i++) {
    const v = Number((n >> BigInt(31 * i)) & MASK_31);
    if (v >= P) throw new ProofError(`${toHex(bytes)} is not a packed digest: field ${i} is not below p`);
    d.push(v);
  }
  return d;
}

/**
 * Climbs from a leaf digest: at height `h`, bit `h` of `index` set means the
 * node is the right child (`compress(sibling, node)`), else the left.
 */
export function climb(index: bigint, leaf: Digest, siblings: readonly Digest[]): Digest {
  let node = leaf;
  siblings.forEach((sibling, h) => {
    node = (index >> BigInt(h)) & 1n ? compress(sibling, node) : compress(node, sibling);
  });
  return node;
}

/** The root of a sparse tree over `leaves` (index → leaf digest), absent subtrees being `empty[h]`. */
export function sparseRoot(leaves: ReadonlyMap<bigint, Digest>, empty: readonly Digest[]): Digest {
  let level = new Map(leaves);
  for (let h = 0; h < empty.length - 1; h++) {
    const above = new Map<bigint, Digest>();
    for (const i of level.keys()) {
      const j = i >> 1n;
      if (above.has(j)) continue;
      const left = level.get(j << 1n) ?? empty[h]!;
      const right = level.get((j << 1n) | 1n) ?? empty[h]!;
      above.set(j, compress(left, right));
    }
    level = above;
  }
  return level.get(0n) ?? empty[empty.length - 1]!;
}

/** A storage slot's leaf index: from `sponge(limbs(key), 2)`, 22 + 22 + 21·4 bits. */
export function slotIndex(key: Uint8Array): bigint {
  const e = sponge([...limbs(key), 2]).map(BigInt);
  const low = (v: bigint, bits: bigint) => v & ((1n << bits) - 1n);
  return (
    (low(e[0]!, 22n) << 106n) |
    (low(e[1]!, 22n) << 84n) |
    (low(e[2]!, 21n) << 63n) |
    (low(e[3]!, 21n) << 42n) |
    (low(e[4]!, 21n) << 21n) |
    low(e[5]!, 21n)
  );
}

/** A present slot's leaf elements: key limbs, 1, the value's length, 3 bytes per element little-endian. */
export function slotFields(key: Uint8Array, value: Uint8Array): number[] {
  if (value.length > STORAGE_VALUE_BYTES_MAX) throw new RangeError(`a storage value is at most ${STORAGE_VALUE_BYTES_MAX} bytes`);
  const out = [...limbs(key), 1, value.length];
  for (let i = 0; i < value.length; i += 3) out.push(value[i]! + (value[i + 1] ?? 0) * 256 + (value[i + 2] ?? 0) * 65536);
  return out;
}

/** A present slot's leaf digest. */
export function slotLeaf(key: Uint8Array, value: Uint8Array): Digest {
  return sponge(slotFields(key, value));
}

/** A contract's key field: `pack(sponge(address limbs, code-hash limbs, storage root, 3))`. */
export function contractKeyField(address: Uint8Array, codeHash: Uint8Array, storageRoot: Digest): Uint8Array {
  return packDigest(sponge([...limbs(address), ...limbs(codeHash), ...storageRoot, 3]));
}

// ---- checking an answer ----

function bytes32(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string") throw new ProofError(`${what} is not a hex string`);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch {
    throw new ProofError(`${what} is not hex: ${JSON.stringify(value)}`);
  }
  if (bytes.length !== 32) throw new ProofError(`${what} is ${bytes.length} bytes, not 32`);
  return bytes;
}

function hexBytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string") throw new ProofError(`${what} is not a hex string`);
  try {
    return fromHex(value);
  } catch {
    throw new ProofError(`${what} is not hex`);
  }
}

function decimal(value: unknown, what: string, max: bigint): bigint {
  if (typeof value !== "string" || !/^\d+$/.test(value)) throw new ProofError(`${what} is not a decimal string`);
  const n = BigInt(value);
  if (n > max) throw new ProofError(`${what} ${n} is out of range`);
  return n;
}

function sameDigest(a: Digest, b: Digest): boolean {
  return a.every((v, i) => v === b[i]);
}

/**
 * Checks an `l2_getProof` answer by `docs/state-commitment.md` ("Answering
 * l2_getProof"): the account leaf (or the empty leaf) climbs its 24 siblings to
 * `root`; for a contract, the leaf's key field commits `address`, `codeHash` and
 * `storageRoot`, and every slot (present, held by another key, or absent) climbs
 * its compact path to `storageRoot`. With `expectedRoot` (e.g. the L1's
 * `rollup_status().finalizedRoot` or a batch's `newRoot`), `root` must be it.
 * Returns the verified root; throws {@link ProofError} with the reason otherwise.
 */
export function verifyProof(answer: ProofView, expectedRoot?: BytesLike): Hex {
  if (answer === null || typeof answer !== "object") throw new ProofError("the answer is not an object");
  if (answer.treeHash !== STARK_TREE_HASH) {
    throw new ProofError(`tree ${JSON.stringify(answer.treeHash)} is not ${STARK_TREE_HASH}, the tree this client checks`);
  }
  const root = bytes32(answer.root, "root");
  unpackDigest(root); // a root that is no digest is refused with its reason
  if (expectedRoot !== undefined && !equalBytes(root, toBytes(expectedRoot))) {
    throw new ProofError(`root ${toHex(root)} is not the expected ${toHex(toBytes(expectedRoot))}`);
  }
  const account = answer.account;
  if (!Number.isInteger(account) || account < 0 || account >= 2 ** ACCOUNT_TREE_DEPTH) {
    throw new ProofError(`account ${String(account)} is not an account id`);
  }
  if (!Array.isArray(answer.siblings)) throw new ProofError("no siblings");
  if (answer.siblings.length !== ACCOUNT_TREE_DEPTH) {
    throw new ProofError(`${answer.siblings.length} siblings, not ${ACCOUNT_TREE_DEPTH}`);
  }
  const siblings = answer.siblings.map((s, h) => unpackDigest(bytes32(s, `sibling ${h}`)));

  const leaf = answer.leaf;
  let key: Uint8Array | undefined;
  let digest: Digest;
  if (leaf === null || leaf === undefined) {
    digest = emptyAccountSubtrees()[0]!;
  } else {
    key = bytes32(leaf.key, "leaf.key");
    if (!Array.isArray(leaf.balances) || leaf.balances.length !== 4) throw new ProofError("the leaf does not have four balances");
    const balances = leaf.balances.map((b, i) => decimal(b, `balance ${i}`, (1n << 128n) - 1n));
    if (!Number.isSafeInteger(leaf.nonce) || leaf.nonce < 0) throw new ProofError(`nonce ${String(leaf.nonce)} is not a u64`);
    digest = accountLeaf(key, BigInt(leaf.nonce), balances);
  }
  if (!equalBytes(packDigest(climb(BigInt(account), digest, siblings)), root)) {
    throw new ProofError(`the path of account ${account} does not reach the root ${toHex(root)}`);
  }

  const contract = answer.contract;
  if (contract === undefined || contract === null) return toHex(root);
  const storageRoot = unpackDigest(bytes32(contract.storageRoot, "contract.storageRoot"));
  const field = contractKeyField(
    bytes32(contract.address, "contract.address"),
    bytes32(contract.codeHash, "contract.codeHash"),
    storageRoot,
  );
  if (key === undefined || !equalBytes(key, field)) throw new ProofError("the leaf's key field is not the contract's");
  if (!Array.isArray(contract.storage)) throw new ProofError("no storage");
  const empty = emptyStorageSubtrees();
  for (const slot of contract.storage) {
    const slotKey = bytes32(slot.key, "slot key");
    const where = `slot ${toHex(slotKey)}`;
    const index = slotIndex(slotKey);
    let slotDigest: Digest;
    if (typeof slot.value === "string") {
      slotDigest = slotLeaf(slotKey, hexBytes(slot.value, `${where} value`));
    } else if (slot.value === null && slot.held !== undefined && slot.held !== null) {
      const other = bytes32(slot.held.key, `${where} held.key`);
      if (equalBytes(other, slotKey) || slotIndex(other) !== index) {
        throw new ProofError(`${where}: a held path not held by another key`);
      }
      slotDigest = slotLeaf(other, hexBytes(slot.held.value, `${where} held.value`));
    } else if (slot.value === null) {
      slotDigest = empty[0]!;
    } else {
      throw new ProofError(`${where}: value is neither hex nor null`);
    }
    const occupied = decimal(slot.occupied, `${where} occupied`, (1n << 128n) - 1n);
    if (!Array.isArray(slot.siblings)) throw new ProofError(`${where}: no siblings`);
    let next = 0;
    const path: Digest[] = [];
    for (let h = 0; h < STORAGE_TREE_DEPTH; h++) {
      if ((occupied >> BigInt(h)) & 1n) {
        const listed = slot.siblings[next++];
        if (listed === undefined) throw new ProofError(`${where}: too few siblings`);
        path.push(unpackDigest(bytes32(listed, `${where} sibling ${h}`)));
      } else {
        path.push(empty[h]!);
      }
    }
    if (next !== slot.siblings.length) throw new ProofError(`${where}: too many siblings`);
    if (!sameDigest(climb(index, slotDigest, path), storageRoot)) {
      throw new ProofError(`${where} does not reach the storage root`);
    }
  }
  return toHex(root);
}
