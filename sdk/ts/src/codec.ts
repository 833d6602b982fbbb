/**
 * Ghostplane transactions as plain objects, their borsh encodings, signing
 * messages, signatures and hashes, byte for byte as the Rust sources define them:
 *
 * - L2 (`crates/common/primitives/src/tx.rs`): `Transaction` = Transfer 0 |
 *   Withdraw 1 | Deploy 2 | Call 3; `SignedTransaction {tx, chain_id u64, signer,
 *   signature}`; signing message = `"ghostplane/l2-tx/v1\0\0"` ‖ chain id (u64 LE)
 *   ‖ borsh(tx); hash = blake3(borsh(signed)).
 * - L1 (`crates/l1/types/src/tx.rs`): `L1Transaction {chain_id u64, from, nonce
 *   u64, call}`, `Call` = Ledger 0 | Rollup 1 | Identity 2 | Naming 3; signing
 *   message = `"ghostd/l1-tx/v1\0"` ‖ borsh(tx); hash = blake3(borsh(signed)).
 *
 * Amounts, fees, nonces and fuel are `bigint`; account ids `number`; bytes `0x`
 * hex strings (or `Uint8Array`).
 */
import { blake3 } from "@noble/hashes/blake3.js";

import { BorshReader, BorshWriter } from "./borsh.js";
import { type BytesLike, type Hex, concatBytes, fixedBytes, toBytes, toHex, utf8 } from "./bytes.js";
import type { Keypair } from "./keys.js";

/** The four tokens, in `TokenId` order (the borsh byte is the index). */
export const TOKENS = ["GCC", "SPIRIT", "MANA", "GHOST"] as const;
/** A token symbol. */
export type Token = (typeof TOKENS)[number];

/** `TX_SIGNING_DOMAIN` (21 bytes). */
const L2_SIGNING_DOMAIN = utf8("ghostplane/l2-tx/v1\0\0");
/** `L1_TX_DOMAIN` (16 bytes). */
const L1_SIGNING_DOMAIN = utf8("ghostd/l1-tx/v1\0");
/** `SIGNED_TX_BYTES_MAX`-independent bound on a decoded code or input vector. */
const DECODE_VEC_BYTES_MAX = 4 * 1024 * 1024;
/** The devnet's L1 chain id (`"gho1"`). */
export const DEVNET_L1_CHAIN_ID = 0x67686f31n;

/** The borsh byte of a token. */
export function tokenId(token: Token): number {
  const id = TOKENS.indexOf(token);
  if (id < 0) throw new TypeError(`unknown token ${JSON.stringify(token)} (GCC, SPIRIT, MANA, GHOST)`);
  return id;
}

/** The token of a borsh byte. */
export function tokenOf(id: number): Token {
  const token = TOKENS[id];
  if (token === undefined) throw new RangeError(`unknown token id ${id}`);
  return token;
}

/** Where a transfer goes: an existing account, or a new one for a public key. */
export type Recipient = { account: number } | { newAccount: BytesLike };

/** Moves `amount` of `token` to another L2 account. */
export interface TransferTx {
  kind: "transfer";
  from: number;
  to: Recipient;
  token: Token;
  amount: bigint;
  fee: bigint;
  nonce: bigint;
}

/** Moves `amount` of `token` to an L1 address (released when its batch is final). */
export interface WithdrawTx {
  kind: "withdraw";
  from: number;
  to: BytesLike;
  token: Token;
  amount: bigint;
  fee: bigint;
  nonce: bigint;
}

/** Deploys WASM `code`, runs its `init` with `init`, moving `value` of `token` to it. */
export interface DeployTx {
  kind: "deploy";
  from: number;
  code: BytesLike;
  init: BytesLike;
  token: Token;
  value: bigint;
  fee: bigint;
  nonce: bigint;
}

/** Calls a contract with `input`, at most `fuelLimit` fuel, moving `value` of `token` to it. */
export interface CallTx {
  kind: "call";
  from: number;
  contract: BytesLike;
  input: BytesLike;
  fuelLimit: bigint;
  token: Token;
  value: bigint;
  fee: bigint;
  nonce: bigint;
}

/** An unsigned L2 transaction. */
export type Transaction = TransferTx | WithdrawTx | DeployTx | CallTx;

/** A transaction signed: its encoding (`SignedTransaction`), as hex, and its hash. */
export interface SignedTx {
  bytes: Uint8Array;
  hex: Hex;
  hash: Hex;
}

function writeTransaction(w: BorshWriter, tx: Transaction): void {
  switch (tx.kind) {
    case "transfer":
      w.u8(0).u32(tx.from);
      if ("account" in tx.to) w.u8(0).u32(tx.to.account);
      else w.u8(1).fixed(fixedBytes(tx.to.newAccount, 32, "newAccount"));
      w.u8(tokenId(tx.token)).u128(tx.amount).u128(tx.fee).u64(tx.nonce);
      return;
    case "withdraw":
      w.u8(1).u32(tx.from).fixed(fixedBytes(tx.to, 32, "withdraw recipient"));
      w.u8(tokenId(tx.token)).u128(tx.amount).u128(tx.fee).u64(tx.nonce);
      return;
    case "deploy":
      w.u8(2).u32(tx.from).bytes(toBytes(tx.code)).bytes(toBytes(tx.init));
      w.u8(tokenId(tx.token)).u128(tx.value).u128(tx.fee).u64(tx.nonce);
      return;
    case "call":
      w.u8(3).u32(tx.from).fixed(fixedBytes(tx.contract, 32, "contract")).bytes(toBytes(tx.input));
      w.u64(tx.fuelLimit).u8(tokenId(tx.token)).u128(tx.value).u128(tx.fee).u64(tx.nonce);
      return;
    default:
      throw new TypeError(`unknown transaction kind ${JSON.stringify((tx as { kind: unknown }).kind)}`);
  }
}

/** borsh(`Transaction`): what `l2_estimateFee` takes (hex). */
export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new BorshWriter();
  writeTransaction(w, tx);
  return w.finish();
}

/** The bytes an L2 transaction's signer signs. */
export function signingMessage(tx: Transaction, chainId: bigint): Uint8Array {
  return concatBytes(L2_SIGNING_DOMAIN, new BorshWriter().u64(chainId).finish(), encodeTransaction(tx));
}

/** blake3 of a signed transaction's encoding (L2 or L1), as `0x` hex. */
export function txHash(bytes: Uint8Array): Hex {
  return toHex(blake3(bytes));
}

/** Signs `tx` for the L2 chain `chainId` with `key` (which must be the `from` account's key). */
export function signTransaction(tx: Transaction, key: Keypair, chainId: bigint): SignedTx {
  const signature = key.sign(signingMessage(tx, chainId));
  const w = new BorshWriter();
  writeTransaction(w, tx);
  const bytes = w.u64(chainId).fixed(key.publicKey).fixed(signature).finish();
  return { bytes, hex: toHex(bytes), hash: txHash(bytes) };
}

/** A decoded `SignedTransaction`. */
export interface DecodedSignedTx {
  tx: Transaction;
  chainId: bigint;
  signer: Hex;
  signature: Hex;
  hash: Hex;
}

function readTransaction(r: BorshReader): Transaction {
  const variant = r.u8();
  const from = r.u32();
  switch (variant) {
    case 0: {
      const recipient = r.u8();
      let to: Recipient;
      if (recipient === 0) to = { account: r.u32() };
      else if (recipient === 1) to = { newAccount: toHex(r.fixed(32)) };
      else throw new RangeError(`borsh: unknown recipient variant ${recipient}`);
      return { kind: "transfer", from, to, token: tokenOf(r.u8()), amount: r.u128(), fee: r.u128(), nonce: r.u64() };
    }
    case 1:
      return { kind: "withdraw", from, to: toHex(r.fixed(32)), token: tokenOf(r.u8()), amount: r.u128(), fee: r.u128(), nonce: r.u64() };
    case 2: {
      const code = toHex(r.bytesVec(DECODE_VEC_BYTES_MAX));
      const init = toHex(r.bytesVec(DECODE_VEC_BYTES_MAX));
      return { kind: "deploy", from, code, init, token: tokenOf(r.u8()), value: r.u128(), fee: r.u128(), nonce: r.u64() };
    }
    case 3: {
      const contract = toHex(r.fixed(32));
      const input = toHex(r.bytesVec(DECODE_VEC_BYTES_MAX));
      const fuelLimit = r.u64();
      return { kind: "call", from, contract, input, fuelLimit, token: tokenOf(r.u8()), value: r.u128(), fee: r.u128(), nonce: r.u64() };
    }
    default:
      throw new RangeError(`borsh: unknown transaction variant ${variant}`);
  }
}

/** Decodes a `SignedTransaction` (hex or bytes); trailing bytes are refused. No signature check. */
export function decodeSignedTransaction(encoded: BytesLike): DecodedSignedTx {
  const bytes = toBytes(encoded);
  const r = new BorshReader(bytes);
  const tx = readTransaction(r);
  const chainId = r.u64();
  const signer = toHex(r.fixed(32));
  const signature = toHex(r.fixed(64));
  r.end();
  return { tx, chainId, signer, signature, hash: txHash(bytes) };
}

/** `contract_address(deployer, nonce)`: blake3 derive-key "ghostplane contract address v1" over u32 LE ‖ u64 LE. */
export function contractAddress(deployer: number, nonce: bigint): Hex {
  const input = new BorshWriter().u32(deployer).u64(nonce).finish();
  return toHex(blake3(input, { context: utf8("ghostplane contract address v1") }));
}

/** blake3 of contract code (`code_hash`). */
export function codeHash(code: BytesLike): Hex {
  return toHex(blake3(toBytes(code)));
}

// ---- L1 ----

/** `RollupCall::Deposit`: lock `amount` of `token` in the bridge, credited to `recipient`'s L2 account. */
export interface DepositCall {
  kind: "deposit";
  recipient: BytesLike;
  token: Token;
  amount: bigint;
}

/** `LedgerCall::Transfer`: move `amount` of `token` to `to` on the L1 (`id` chosen by the client, not 0). */
export interface LedgerTransferCall {
  kind: "ledgerTransfer";
  id: bigint;
  to: BytesLike;
  token: Token;
  amount: bigint;
}

/** The L1 calls this client builds. */
export type L1Call = DepositCall | LedgerTransferCall;

/** An unsigned L1 transaction. */
export interface L1Transaction {
  chainId: bigint;
  from: BytesLike;
  nonce: bigint;
  call: L1Call;
}

function writeL1Transaction(w: BorshWriter, tx: L1Transaction): void {
  w.u64(tx.chainId).fixed(fixedBytes(tx.from, 32, "from")).u64(tx.nonce);
  const call = tx.call;
  switch (call.kind) {
    case "ledgerTransfer":
      // Call::Ledger (0), LedgerCall::Transfer (0)
      w.u8(0).u8(0).u128(call.id).fixed(fixedBytes(call.to, 32, "to")).u8(tokenId(call.token)).u128(call.amount);
      return;
    case "deposit":
      // Call::Rollup (1), RollupCall::Deposit (0)
      w.u8(1).u8(0).fixed(fixedBytes(call.recipient, 32, "recipient")).u8(tokenId(call.token)).u128(call.amount);
      return;
    default:
      throw new TypeError(`unknown L1 call kind ${JSON.stringify((call as { kind: unknown }).kind)}`);
  }
}

/** borsh(`L1Transaction`). */
export function encodeL1Transaction(tx: L1Transaction): Uint8Array {
  const w = new BorshWriter();
  writeL1Transaction(w, tx);
  return w.finish();
}

/** The bytes an L1 transaction's sender signs. */
export function l1SigningMessage(tx: L1Transaction): Uint8Array {
  return concatBytes(L1_SIGNING_DOMAIN, encodeL1Transaction(tx));
}

/** Signs an L1 transaction with `key` (which must be `tx.from`). */
export function signL1Transaction(tx: L1Transaction, key: Keypair): SignedTx {
  const from = fixedBytes(tx.from, 32, "from");
  if (toHex(from) !== key.publicKeyHex) {
    throw new TypeError(`the key ${key.publicKeyHex} is not the sender ${toHex(from)}`);
  }
  const signature = key.sign(l1SigningMessage(tx));
  const bytes = concatBytes(encodeL1Transaction(tx), signature);
  return { bytes, hex: toHex(bytes), hash: txHash(bytes) };
}
