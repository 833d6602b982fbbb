/**
 * Wire encodings against the known answers Rust generated
 * (`testing/vectors/encoding.json`): dev keys, contract addresses, L2 and L1
 * transactions' encodings, signing messages, signed encodings and hashes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  type L1Transaction,
  Keypair,
  type Transaction,
  contractAddress,
  decodeSignedTransaction,
  encodeL1Transaction,
  encodeTransaction,
  fromHex,
  l1SigningMessage,
  signL1Transaction,
  signTransaction,
  signingMessage,
  toHex,
  txHash,
  verifySignature,
} from "../src/index.js";
import { repoFile } from "./paths.js";

interface Vectors {
  l2: { name: string; signer: number; chainId: string; tx: Record<string, unknown>; encoding: string; signingMessage: string; signed: string; hash: string }[];
  l1: { name: string; signer: number; tx: Record<string, unknown>; signingMessage: string; signed: string; hash: string }[];
  devKeys: { index: number; seed: string; publicKey: string }[];
  contractAddresses: { deployer: number; nonce: string; address: string }[];
}

const text = repoFile("testing/vectors/encoding.json");
const vectors = text === undefined ? undefined : (JSON.parse(text) as Vectors);
const skip = vectors === undefined ? "testing/vectors/encoding.json not generated yet" : false;

const BIGINT_FIELDS = new Set(["amount", "fee", "nonce", "value", "fuelLimit", "chainId", "id"]);

/** A vector's transaction object with its decimal-string integers as bigint. */
function revive<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => revive(v)) as T;
  if (value === null || typeof value !== "object") return value as T;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, BIGINT_FIELDS.has(k) && typeof v === "string" ? BigInt(v) : revive(v)]),
  ) as T;
}

test("dev keys", { skip }, () => {
  for (const k of vectors!.devKeys) {
    const key = Keypair.dev(k.index);
    assert.equal(toHex(key.seed()), k.seed, `dev(${k.index}) seed`);
    assert.equal(key.publicKeyHex, k.publicKey, `dev(${k.index}) key`);
    assert.equal(Keypair.fromSeed(fromHex(k.seed)).publicKeyHex, k.publicKey);
  }
});

test("contract addresses", { skip }, () => {
  for (const c of vectors!.contractAddresses) assert.equal(contractAddress(c.deployer, BigInt(c.nonce)), c.address);
});

test("L2 transactions: encoding, signing message, signed, hash, decode", { skip }, () => {
  assert.ok(vectors!.l2.length > 0);
  for (const vec of vectors!.l2) {
    const tx = revive<Transaction>(vec.tx);
    const chainId = BigInt(vec.chainId);
    const key = Keypair.dev(vec.signer);
    assert.equal(toHex(encodeTransaction(tx)), vec.encoding, `${vec.name}: encoding`);
    assert.equal(toHex(signingMessage(tx, chainId)), vec.signingMessage, `${vec.name}: signing message`);
    const signed = signTransaction(tx, key, chainId);
    assert.equal(signed.hex, vec.signed, `${vec.name}: signed`);
    assert.equal(signed.hash, vec.hash, `${vec.name}: hash`);
    assert.equal(txHash(fromHex(vec.signed)), vec.hash);
    const decoded = decodeSignedTransaction(vec.signed);
    assert.equal(toHex(encodeTransaction(decoded.tx)), vec.encoding, `${vec.name}: decode round trip`);
    assert.equal(decoded.chainId, chainId);
    assert.equal(decoded.signer, key.publicKeyHex);
    assert.ok(verifySignature(key.publicKey, signingMessage(decoded.tx, chainId), fromHex(decoded.signature)));
  }
});

test("L1 transactions: signing message, signed, hash", { skip }, () => {
  assert.ok(vectors!.l1.length > 0);
  for (const vec of vectors!.l1) {
    const tx = revive<L1Transaction>(vec.tx);
    const key = Keypair.dev(vec.signer);
    assert.equal(toHex(l1SigningMessage(tx)), vec.signingMessage, `${vec.name}: signing message`);
    assert.equal(toHex(l1SigningMessage(tx).subarray(16)), toHex(encodeL1Transaction(tx)));
    const signed = signL1Transaction(tx, key);
    assert.equal(signed.hex, vec.signed, `${vec.name}: signed`);
    assert.equal(signed.hash, vec.hash, `${vec.name}: hash`);
  }
});

test("encoding refuses what Rust could not hold", () => {
  const base = { kind: "transfer", from: 1, to: { account: 2 }, token: "GCC", amount: 1n, fee: 1n, nonce: 0n } as const;
  assert.throws(() => encodeTransaction({ ...base, amount: 1n << 128n }), RangeError);
  assert.throws(() => encodeTransaction({ ...base, nonce: -1n }), RangeError);
  assert.throws(() => encodeTransaction({ ...base, from: 2 ** 32 }), RangeError);
  assert.throws(() => encodeTransaction({ ...base, token: "BTC" as "GCC" }), /unknown token/);
  assert.throws(() => encodeTransaction({ ...base, to: { newAccount: "0x1234" } }), /32 bytes/);
  assert.throws(() => decodeSignedTransaction(toHex(new Uint8Array([9]))), RangeError);
  const key = Keypair.dev(1);
  const signed = signTransaction(base, key, 7n);
  assert.throws(() => decodeSignedTransaction(toHex(new Uint8Array([...signed.bytes, 0]))), /trailing/);
  assert.throws(() => signL1Transaction({ chainId: 1n, from: Keypair.dev(2).publicKey, nonce: 0n, call: { kind: "deposit", recipient: key.publicKey, token: "GCC", amount: 1n } }, key), /not the sender/);
  const max = { ...base, amount: (1n << 128n) - 1n };
  assert.equal(toHex(encodeTransaction(max)).slice(2 + 2 * 11, 2 + 2 * 27), "ff".repeat(16), "u128::MAX amount");
  assert.deepEqual(decodeSignedTransaction(signTransaction(max, key, 7n).bytes).tx, max);
});

test("decoding refuses a malformed or oversized signed transaction before or while reading it", () => {
  const key = Keypair.dev(1);
  const deploy = { kind: "deploy", from: 1, code: new Uint8Array(100), init: "0x", token: "GCC", value: 0n, fee: 1n, nonce: 0n } as const;
  const signed = signTransaction(deploy, key, 7n).bytes;
  assert.equal(decodeSignedTransaction(signed).tx.kind, "deploy");
  // A code length prefix past the end of the input: refused, nothing allocated for it.
  const lying = signed.slice();
  new DataView(lying.buffer).setUint32(5, 0xffff_fff0, true);
  assert.throws(() => decodeSignedTransaction(lying), /borsh: not a signed transaction/);
  // Every proper prefix is short.
  for (const cut of [0, 1, 5, 9, signed.length - 1]) assert.throws(() => decodeSignedTransaction(signed.subarray(0, cut)), RangeError);
  // Longer than SIGNED_TX_BYTES_MAX: refused before decoding.
  assert.throws(() => decodeSignedTransaction(new Uint8Array(129 * 1024 + 1)), /at most 132096 bytes/);
  // Tags one past the last variant (borsh-js fails those with a TypeError; the client says RangeError).
  assert.throws(() => decodeSignedTransaction(Uint8Array.of(4, 1, 0, 0, 0)), RangeError);
  assert.throws(() => decodeSignedTransaction(Uint8Array.of(0, 1, 0, 0, 0, 2)), RangeError);
  // An unknown token id.
  const transfer = signTransaction({ kind: "transfer", from: 1, to: { account: 2 }, token: "GCC", amount: 1n, fee: 1n, nonce: 0n }, key, 7n).bytes.slice();
  transfer[10] = 9;
  assert.throws(() => decodeSignedTransaction(transfer), /unknown token id 9/);
});
