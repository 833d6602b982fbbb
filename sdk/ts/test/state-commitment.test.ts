/**
 * Every vector of `docs/state-commitment.md` (parsed from the document at test
 * time, as `crates/proof/prover/tests/state_commitment.rs` does), recomputed with
 * this package's Poseidon2 and tree code; and `verifyProof` on answers built
 * from a tree, with each kind of tampering refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { serialize } from "borsh";

import {
  type Digest,
  Keypair,
  POSEIDON2_PARAMS,
  P,
  ProofError,
  type ProofView,
  accountLeaf,
  climb,
  codeHash,
  compress,
  contractAddress,
  contractKeyField,
  emptyAccountSubtrees,
  emptyStorageSubtrees,
  fromHex,
  leafFields,
  limbs,
  packDigest,
  permute,
  slotFields,
  slotIndex,
  slotLeaf,
  sparseRoot,
  sponge,
  toHex,
  unpackDigest,
  utf8,
  verifyProof,
  concatBytes,
} from "../src/index.js";
import { documentedVectors, parseList, parseNumbers, repoFile } from "./paths.js";

const doc = repoFile("docs/state-commitment.md");
const vectors = doc === undefined ? new Map<string, string>() : documentedVectors(doc);
const used = new Set<string>();

/** A documented value (marked as checked). */
function v(name: string): string {
  const value = vectors.get(name);
  assert.ok(value !== undefined, `docs/state-commitment.md has no \`${name}\``);
  used.add(name);
  return value;
}
const hex = (d: Digest) => toHex(packDigest(d));
const skip = doc === undefined ? "docs/state-commitment.md not found" : false;

/** The nodes of a sparse tree by height (as the reference's `levels`). */
function levels(leaves: Map<bigint, Digest>, empty: readonly Digest[]): Map<bigint, Digest>[] {
  const out = [leaves];
  for (let h = 0; h < empty.length - 1; h++) {
    const below = out[h]!;
    const above = new Map<bigint, Digest>();
    for (const i of below.keys()) {
      const left = below.get(i & ~1n) ?? empty[h]!;
      const right = below.get(i | 1n) ?? empty[h]!;
      above.set(i >> 1n, compress(left, right));
    }
    out.push(above);
  }
  return out;
}

function siblingsOf(leaves: Map<bigint, Digest>, empty: readonly Digest[], index: bigint): Digest[] {
  const lv = levels(leaves, empty);
  return Array.from({ length: empty.length - 1 }, (_, h) => lv[h]!.get((index >> BigInt(h)) ^ 1n) ?? empty[h]!);
}

test("the permutation's parameters are the document's", { skip }, () => {
  assert.equal(Number(v("modulus")), P);
  assert.equal(Number(v("sbox_degree")), POSEIDON2_PARAMS.sboxDegree);
  assert.equal(Number(v("external_rounds")), POSEIDON2_PARAMS.externalInitial.length + POSEIDON2_PARAMS.externalFinal.length);
  assert.equal(Number(v("internal_rounds")), POSEIDON2_PARAMS.internal.length);
  assert.deepEqual(parseNumbers(v("internal_diag")), [...POSEIDON2_PARAMS.internalDiag]);
  for (let r = 0; r < 4; r++) {
    assert.deepEqual(parseNumbers(v(`rc_external_initial_${r}`)), [...POSEIDON2_PARAMS.externalInitial[r]!]);
    assert.deepEqual(parseNumbers(v(`rc_external_final_${r}`)), [...POSEIDON2_PARAMS.externalFinal[r]!]);
  }
  assert.deepEqual(parseNumbers(v("rc_internal")), [...POSEIDON2_PARAMS.internal]);
  // V = [−2, 1, 2, 1/2, 3, 4, −1/2, −3, −4, 1/2^8, 1/8, 1/2^24, −1/2^8, −1/8, −1/16, −1/2^24]
  const p = BigInt(P);
  const pow = (b: bigint, e: bigint): bigint => (e === 0n ? 1n : ((e & 1n ? b : 1n) * pow((b * b) % p, e >> 1n)) % p);
  const inv = (k: bigint) => pow(pow(2n, k), p - 2n);
  const neg = (x: bigint) => (p - x) % p;
  const V = [neg(2n), 1n, 2n, inv(1n), 3n, 4n, neg(inv(1n)), neg(3n), neg(4n), inv(8n), inv(3n), inv(24n), neg(inv(8n)), neg(inv(3n)), neg(inv(4n)), neg(inv(24n))];
  assert.deepEqual(POSEIDON2_PARAMS.internalDiag.map(BigInt), V);
});

test("permutation known answers (ours and Plonky3's)", { skip }, () => {
  assert.deepEqual(permute(parseNumbers(v("permutation_in"))), parseNumbers(v("permutation_out")));
  assert.deepEqual(permute(parseNumbers(v("plonky3_in"))), parseNumbers(v("plonky3_out")));
  // node([0..8], [8..16]) is the first 8 elements of permutation_out.
  const input = parseNumbers(v("permutation_in"));
  assert.deepEqual(compress(input.slice(0, 8), input.slice(8)), parseNumbers(v("permutation_out")).slice(0, 8));
  assert.throws(() => permute(new Array(16).fill(P)), RangeError);
});

test("account leaf: blocks, digest, packing", { skip }, () => {
  const key = fromHex(v("leaf_key"));
  assert.equal(toHex(key), Keypair.dev(1).publicKeyHex);
  const balances = parseList(v("leaf_balances"));
  const fields = leafFields(key, BigInt(v("leaf_nonce")), balances);
  for (let b = 0; b < 6; b++) assert.deepEqual(fields.slice(8 * b, 8 * b + 8), parseNumbers(v(`leaf_block_${b}`)), `block ${b}`);
  const digest = accountLeaf(key, BigInt(v("leaf_nonce")), balances);
  assert.deepEqual(digest, parseNumbers(v("leaf_digest")));
  assert.equal(hex(digest), v("leaf_packed"));
  assert.deepEqual(unpackDigest(fromHex(v("leaf_packed"))), digest);
});

test("empty subtrees and the empty tree's root", { skip }, () => {
  const empty = emptyAccountSubtrees();
  assert.deepEqual(empty[0], parseNumbers(v("empty_leaf_digest")));
  for (let h = 0; h <= 24; h++) assert.equal(hex(empty[h]!), v(`empty_${h}`), `empty_${h}`);
  assert.equal(hex(sparseRoot(new Map(), empty)), v("empty_tree_root"));
});

test("packing refuses what is not a packed digest", () => {
  const bad = new Uint8Array(32);
  bad[0] = 1;
  assert.throws(() => unpackDigest(bad), ProofError);
  // d_0 = p (31 bits, not below p).
  const notCanonical = packDigest([0, 0, 0, 0, 0, 0, 0, 0]);
  notCanonical[31] = 0x01;
  notCanonical[30] = 0x00;
  notCanonical[29] = 0x00;
  notCanonical[28] = 0x7f;
  assert.throws(() => unpackDigest(notCanonical), ProofError);
});

test("devnet genesis root (16 dev accounts)", { skip }, () => {
  const n = Number(v("devnet_accounts"));
  const balance = BigInt(v("devnet_balance"));
  const leaves = new Map<bigint, Digest>();
  for (let i = 0; i < n; i++) leaves.set(BigInt(i), accountLeaf(Keypair.dev(i).publicKey, 0n, [balance, balance, balance, balance]));
  assert.equal(hex(sparseRoot(leaves, emptyAccountSubtrees())), v("devnet_genesis_root"));
});

test("an account path (3 dev accounts), climbed", { skip }, () => {
  const n = Number(v("path_accounts"));
  const index = BigInt(v("path_index"));
  const balance = BigInt(v("devnet_balance"));
  const leaves = new Map<bigint, Digest>();
  for (let i = 0; i < n; i++) leaves.set(BigInt(i), accountLeaf(Keypair.dev(i).publicKey, 0n, [balance, balance, balance, balance]));
  const empty = emptyAccountSubtrees();
  const siblings = siblingsOf(leaves, empty, index);
  assert.equal(hex(leaves.get(index)!), v("path_leaf"));
  assert.equal(hex(siblings[0]!), v("path_sibling_0"));
  assert.equal(hex(siblings[1]!), v("path_sibling_1"));
  for (let h = 2; h < 24; h++) assert.deepEqual(siblings[h], empty[h]);
  assert.equal(hex(climb(index, leaves.get(index)!, siblings)), v("path_root"));
  assert.equal(hex(sparseRoot(leaves, empty)), v("path_root"));
});

test("exit claim message and signature (dev 1)", { skip }, () => {
  const claim = serialize(
    { struct: { l2ChainId: "u64", account: "u32", token: "u8" } },
    { l2ChainId: BigInt(v("claim_l2_chain_id")), account: Number(v("claim_account")), token: Number(v("claim_token")) },
  );
  const message = concatBytes(utf8("ghostplane/exit-claim/v1"), claim, fromHex(v("claim_recipient")));
  assert.equal(toHex(message), v("claim_message"));
  assert.equal(toHex(Keypair.dev(1).sign(message)), v("claim_signature"));
  assert.equal(BigInt(v("claim_amount")), BigInt(v("devnet_balance")));
});

test("storage: path, leaves, empty root, a 3-slot tree", { skip }, () => {
  const key = fromHex(v("storage_key"));
  const value = fromHex(v("storage_value"));
  assert.deepEqual(sponge([...limbs(key), 2]), parseNumbers(v("storage_path_sponge")));
  assert.equal(slotIndex(key), BigInt(v("storage_path_index")));
  assert.deepEqual(slotFields(key, value), parseNumbers(v("storage_leaf_elements")));
  assert.equal(hex(slotLeaf(key, value)), v("storage_leaf"));
  assert.equal(hex(slotLeaf(key, new Uint8Array())), v("storage_empty_value_leaf"));
  const empty = emptyStorageSubtrees();
  assert.equal(hex(empty[0]!), v("storage_empty_leaf"));
  assert.equal(hex(empty[128]!), v("storage_empty_root"));
  const { leaves } = storageTree();
  const index = slotIndex(key);
  const siblings = siblingsOf(leaves, empty, index);
  const occupied = siblings.flatMap((s, h) => (hex(s) === hex(empty[h]!) ? [] : [h]));
  assert.deepEqual(occupied, parseNumbers(v("storage_path_occupied")));
  for (const h of occupied) assert.equal(hex(siblings[h]!), v(`storage_path_sibling_${h}`));
  assert.equal(hex(climb(index, slotLeaf(key, value), siblings)), v("storage_root"));
});

/** The document's 3-slot storage tree. */
function storageTree(): { leaves: Map<bigint, Digest>; slots: [Uint8Array, Uint8Array][] } {
  const slots: [Uint8Array, Uint8Array][] = [
    [fromHex(v("storage_key")), fromHex(v("storage_value"))],
    [new Uint8Array(32).fill(0xff), new Uint8Array()],
    [new Uint8Array(32), Uint8Array.of(0x2a)],
  ];
  return { leaves: new Map(slots.map(([k, val]) => [slotIndex(k), slotLeaf(k, val)])), slots };
}

test("contract key field and leaf", { skip }, () => {
  const address = contractAddress(1, 0n);
  assert.equal(address, v("contract_address"));
  const code = fromHex("0x0061736d01000000");
  assert.equal(codeHash(code), v("contract_code_hash"));
  const storageRoot = sparseRoot(storageTree().leaves, emptyStorageSubtrees());
  assert.equal(hex(storageRoot), v("storage_root"));
  const field = contractKeyField(fromHex(address), fromHex(codeHash(code)), storageRoot);
  assert.equal(toHex(field), v("contract_key_field"));
  const leaf = accountLeaf(field, BigInt(v("contract_leaf_nonce")), parseList(v("contract_leaf_balances")));
  assert.equal(hex(leaf), v("contract_leaf"));
});

test("every vector of the document is checked (Groth16's tree is not this client's)", { skip }, () => {
  const unchecked = [...vectors.keys()].filter((name) => !used.has(name) && !name.startsWith("groth16_"));
  assert.deepEqual(unchecked, []);
});

/** An `l2_getProof` answer for the document's contract at account 5 of a tree with dev accounts 0..4. */
function contractAnswer(): ProofView {
  const balance = 10n ** 18n;
  const code = fromHex("0x0061736d01000000");
  const address = contractAddress(1, 0n);
  const storageEmpty = emptyStorageSubtrees();
  const { leaves: slotLeaves, slots } = storageTree();
  const storageRoot = sparseRoot(slotLeaves, storageEmpty);
  const field = contractKeyField(fromHex(address), fromHex(codeHash(code)), storageRoot);
  const accounts = new Map<bigint, Digest>();
  for (let i = 0; i < 5; i++) accounts.set(BigInt(i), accountLeaf(Keypair.dev(i).publicKey, 0n, [balance, balance, balance, balance]));
  accounts.set(5n, accountLeaf(field, 2n, [5n, 0n, 7n, 0n]));
  const root = sparseRoot(accounts, emptyAccountSubtrees());
  const slot = (key: Uint8Array, value: string | null, held?: { key: string; value: string }) => {
    const siblings = siblingsOf(slotLeaves, storageEmpty, slotIndex(key));
    let occupied = 0n;
    const listed: string[] = [];
    siblings.forEach((s, h) => {
      if (hex(s) !== hex(storageEmpty[h]!)) {
        occupied |= 1n << BigInt(h);
        listed.push(hex(s).slice(2)); // the node sends raw hex; both spellings are read
      }
    });
    return { key: toHex(key), value, ...(held ? { held } : {}), occupied: occupied.toString(), siblings: listed };
  };
  const absent = new Uint8Array(32).fill(0x09);
  return {
    batch: 7,
    root: hex(root).slice(2),
    treeHash: "poseidon2-koalabear-binary-24",
    account: 5,
    leaf: { key: toHex(field), nonce: 2, balances: ["5", "0", "7", "0"] },
    siblings: siblingsOf(accounts, emptyAccountSubtrees(), 5n).map(hex),
    contract: {
      address,
      codeHash: codeHash(code),
      storageRoot: hex(storageRoot),
      storage: [...slots.map(([k, val]) => slot(k, toHex(val).slice(2))), slot(absent, null)],
    },
  };
}

test("verifyProof accepts a built answer and refuses each tampering", { skip }, () => {
  const good = contractAnswer();
  const root = verifyProof(good);
  assert.equal(root, toHex(fromHex(good.root)));
  assert.equal(verifyProof(good, root), root);
  const refused = (mutate: (p: ProofView) => void, reason: RegExp) => {
    const bad = structuredClone(good);
    mutate(bad);
    assert.throws(() => verifyProof(bad), (e: unknown) => e instanceof ProofError && reason.test(e.message));
  };
  assert.throws(() => verifyProof(good, "0x" + "00".repeat(32)), /not the expected/);
  refused((p) => (p.siblings[3] = "00".repeat(32)), /does not reach the root/);
  refused((p) => p.siblings.pop(), /23 siblings/);
  refused((p) => (p.leaf!.balances[1] = "1"), /does not reach the root/);
  refused((p) => (p.leaf!.nonce = 3), /does not reach the root/);
  refused((p) => (p.account = 4), /does not reach the root/);
  refused((p) => (p.contract!.storage[1]!.value = "00"), /does not reach the storage root/);
  refused((p) => (p.contract!.storage[3]!.value = ""), /does not reach the storage root/);
  refused((p) => (p.contract!.storage[0]!.value = null), /does not reach the storage root/);
  refused((p) => (p.contract!.storageRoot = p.contract!.storage[0]!.siblings[0]!), /key field is not the contract's/);
  refused((p) => (p.contract!.codeHash = toHex(new Uint8Array(32))), /key field is not the contract's/);
  refused((p) => p.contract!.storage[0]!.siblings.push("00".repeat(32)), /too many siblings/);
  refused((p) => p.contract!.storage[0]!.siblings.pop(), /too few siblings/);
  refused(
    (p) => (p.contract!.storage[3]!.held = { key: toHex(new Uint8Array(32).fill(0x09)), value: "" }),
    /held path not held by another key/,
  );
  refused((p) => (p.treeHash = "poseidon-bn254-4ary-12"), /is not poseidon2/);
  refused((p) => (p.root = "01" + "00".repeat(31)), /byte 0/);
});

test("verifyProof: an absent account's empty leaf", { skip }, () => {
  const accounts = new Map<bigint, Digest>([[0n, accountLeaf(Keypair.dev(0).publicKey, 0n, [1n, 0n, 0n, 0n])]]);
  const answer: ProofView = {
    batch: 1,
    root: hex(sparseRoot(accounts, emptyAccountSubtrees())),
    treeHash: "poseidon2-koalabear-binary-24",
    account: 70000,
    leaf: null,
    siblings: siblingsOf(accounts, emptyAccountSubtrees(), 70000n).map(hex),
  };
  verifyProof(answer);
  const claimed = structuredClone(answer);
  claimed.leaf = { key: Keypair.dev(0).publicKeyHex, nonce: 0, balances: ["1", "0", "0", "0"] };
  assert.throws(() => verifyProof(claimed), ProofError);
});
