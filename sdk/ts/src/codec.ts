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

import { type Schema, serialize } from "borsh";

import { BYTE_VEC, BYTES32, BYTES64, bytesOf, decodeExact, u32, u64, u128 } from "./borsh.js";
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
/** `SIGNED_TX_BYTES_MAX` (`CONTRACT_CODE_BYTES_MAX` + 1024): Rust refuses a longer encoding before parsing it, and so does `decodeSignedTransaction`. */
const SIGNED_TX_BYTES_MAX = 128 * 1024 + 1024;
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

/** `Recipient`: Account 0 | NewAccount 1. */
const RECIPIENT: Schema = { enum: [{ struct: { account: "u32" } }, { struct: { newAccount: BYTES32 } }] };

/** `Transaction`: the variants in tag order, each variant's fields in declaration order. */
const TRANSACTION: Schema = {
  enum: [
    { struct: { transfer: { struct: { from: "u32", to: RECIPIENT, token: "u8", amount: "u128", fee: "u128", nonce: "u64" } } } },
    { struct: { withdraw: { struct: { from: "u32", to: BYTES32, token: "u8", amount: "u128", fee: "u128", nonce: "u64" } } } },
    { struct: { deploy: { struct: { from: "u32", code: BYTE_VEC, init: BYTE_VEC, token: "u8", value: "u128", fee: "u128", nonce: "u64" } } } },
    {
      struct: {
        call: {
          struct: { from: "u32", contract: BYTES32, input: BYTE_VEC, fuelLimit: "u64", token: "u8", value: "u128", fee: "u128", nonce: "u64" },
        },
      },
    },
  ],
};

/** `SignedTransaction`. */
const SIGNED_TRANSACTION: Schema = { struct: { tx: TRANSACTION, chainId: "u64", signer: BYTES32, signature: BYTES64 } };

/** A `Transaction` as borsh-js encodes and decodes it: `{ variant: fields }`, bytes as byte arrays. */
type BorshTransaction =
  | { transfer: { from: number; to: { account: number } | { newAccount: ArrayLike<number> }; token: number; amount: bigint; fee: bigint; nonce: bigint } }
  | { withdraw: { from: number; to: ArrayLike<number>; token: number; amount: bigint; fee: bigint; nonce: bigint } }
  | { deploy: { from: number; code: ArrayLike<number>; init: ArrayLike<number>; token: number; value: bigint; fee: bigint; nonce: bigint } }
  | {
      call: { from: number; contract: ArrayLike<number>; input: ArrayLike<number>; fuelLimit: bigint; token: number; value: bigint; fee: bigint; nonce: bigint };
    };

/** `tx` in the shape of `TRANSACTION`, every integer range-checked and every fixed array sized. */
function borshTransaction(tx: Transaction): BorshTransaction {
  switch (tx.kind) {
    case "transfer": {
      const to = "account" in tx.to ? { account: u32(tx.to.account, "to.account") } : { newAccount: fixedBytes(tx.to.newAccount, 32, "newAccount") };
      return { transfer: { from: u32(tx.from, "from"), to, token: tokenId(tx.token), amount: u128(tx.amount, "amount"), fee: u128(tx.fee, "fee"), nonce: u64(tx.nonce, "nonce") } };
    }
    case "withdraw":
      return {
        withdraw: {
          from: u32(tx.from, "from"),
          to: fixedBytes(tx.to, 32, "withdraw recipient"),
          token: tokenId(tx.token),
          amount: u128(tx.amount, "amount"),
          fee: u128(tx.fee, "fee"),
          nonce: u64(tx.nonce, "nonce"),
        },
      };
    case "deploy":
      return {
        deploy: {
          from: u32(tx.from, "from"),
          code: toBytes(tx.code),
          init: toBytes(tx.init),
          token: tokenId(tx.token),
          value: u128(tx.value, "value"),
          fee: u128(tx.fee, "fee"),
          nonce: u64(tx.nonce, "nonce"),
        },
      };
    case "call":
      return {
        call: {
          from: u32(tx.from, "from"),
          contract: fixedBytes(tx.contract, 32, "contract"),
          input: toBytes(tx.input),
          fuelLimit: u64(tx.fuelLimit, "fuelLimit"),
          token: tokenId(tx.token),
          value: u128(tx.value, "value"),
          fee: u128(tx.fee, "fee"),
          nonce: u64(tx.nonce, "nonce"),
        },
      };
    default:
      throw new TypeError(`unknown transaction kind ${JSON.stringify((tx as { kind: unknown }).kind)}`);
  }
}

/** A decoded `TRANSACTION` as the public `Transaction` (bytes as hex, token ids as symbols). */
function fromBorshTransaction(decoded: BorshTransaction): Transaction {
  const hex = (bytes: ArrayLike<number>): Hex => toHex(bytesOf(bytes));
  if ("transfer" in decoded) {
    const t = decoded.transfer;
    const to: Recipient = "account" in t.to ? { account: t.to.account } : { newAccount: hex(t.to.newAccount) };
    return { kind: "transfer", from: t.from, to, token: tokenOf(t.token), amount: t.amount, fee: t.fee, nonce: t.nonce };
  }
  if ("withdraw" in decoded) {
    const t = decoded.withdraw;
    return { kind: "withdraw", from: t.from, to: hex(t.to), token: tokenOf(t.token), amount: t.amount, fee: t.fee, nonce: t.nonce };
  }
  if ("deploy" in decoded) {
    const t = decoded.deploy;
    return { kind: "deploy", from: t.from, code: hex(t.code), init: hex(t.init), token: tokenOf(t.token), value: t.value, fee: t.fee, nonce: t.nonce };
  }
  const t = decoded.call;
  return {
    kind: "call",
    from: t.from,
    contract: hex(t.contract),
    input: hex(t.input),
    fuelLimit: t.fuelLimit,
    token: tokenOf(t.token),
    value: t.value,
    fee: t.fee,
    nonce: t.nonce,
  };
}

/** borsh(`Transaction`): what `l2_estimateFee` takes (hex). */
export function encodeTransaction(tx: Transaction): Uint8Array {
  return serialize(TRANSACTION, borshTransaction(tx));
}

/** The bytes an L2 transaction's signer signs. */
export function signingMessage(tx: Transaction, chainId: bigint): Uint8Array {
  return concatBytes(L2_SIGNING_DOMAIN, serialize("u64", u64(chainId, "chainId")), encodeTransaction(tx));
}

/** blake3 of a signed transaction's encoding (L2 or L1), as `0x` hex. */
export function txHash(bytes: Uint8Array): Hex {
  return toHex(blake3(bytes));
}

/** Signs `tx` for the L2 chain `chainId` with `key` (which must be the `from` account's key). */
export function signTransaction(tx: Transaction, key: Keypair, chainId: bigint): SignedTx {
  const signature = key.sign(signingMessage(tx, chainId));
  const bytes = serialize(SIGNED_TRANSACTION, { tx: borshTransaction(tx), chainId, signer: key.publicKey, signature });
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

/**
 * Decodes a `SignedTransaction` (hex or bytes). Like Rust, refuses an input over
 * `SIGNED_TX_BYTES_MAX` before reading it, and trailing bytes after it. No
 * signature check.
 */
export function decodeSignedTransaction(encoded: BytesLike): DecodedSignedTx {
  const bytes = toBytes(encoded);
  if (bytes.length > SIGNED_TX_BYTES_MAX) {
    throw new RangeError(`a signed transaction is at most ${SIGNED_TX_BYTES_MAX} bytes, got ${bytes.length}`);
  }
  const signed = decodeExact<{ tx: BorshTransaction; chainId: bigint; signer: number[]; signature: number[] }>(
    SIGNED_TRANSACTION,
    bytes,
    "signed transaction",
  );
  return {
    tx: fromBorshTransaction(signed.tx),
    chainId: signed.chainId,
    signer: toHex(bytesOf(signed.signer)),
    signature: toHex(bytesOf(signed.signature)),
    hash: txHash(bytes),
  };
}

/** `contract_address(deployer, nonce)`: blake3 derive-key "ghostplane contract address v1" over u32 LE ‖ u64 LE. */
export function contractAddress(deployer: number, nonce: bigint): Hex {
  const input = serialize({ struct: { deployer: "u32", nonce: "u64" } }, { deployer: u32(deployer, "deployer"), nonce: u64(nonce, "nonce") });
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

/**
 * `L1Transaction` as far as this client builds it: `Call` = Ledger 0 | Rollup 1,
 * each with only its first variant (`LedgerCall::Transfer`, `RollupCall::Deposit`),
 * whose tag is 0 as in Rust.
 */
const L1_TRANSACTION: Schema = {
  struct: {
    chainId: "u64",
    from: BYTES32,
    nonce: "u64",
    call: {
      enum: [
        { struct: { ledger: { enum: [{ struct: { transfer: { struct: { id: "u128", to: BYTES32, token: "u8", amount: "u128" } } } }] } } },
        { struct: { rollup: { enum: [{ struct: { deposit: { struct: { recipient: BYTES32, token: "u8", amount: "u128" } } } }] } } },
      ],
    },
  },
};

function borshL1Call(call: L1Call): object {
  switch (call.kind) {
    case "ledgerTransfer":
      return { ledger: { transfer: { id: u128(call.id, "id"), to: fixedBytes(call.to, 32, "to"), token: tokenId(call.token), amount: u128(call.amount, "amount") } } };
    case "deposit":
      return { rollup: { deposit: { recipient: fixedBytes(call.recipient, 32, "recipient"), token: tokenId(call.token), amount: u128(call.amount, "amount") } } };
    default:
      throw new TypeError(`unknown L1 call kind ${JSON.stringify((call as { kind: unknown }).kind)}`);
  }
}

/** borsh(`L1Transaction`). */
export function encodeL1Transaction(tx: L1Transaction): Uint8Array {
  return serialize(L1_TRANSACTION, {
    chainId: u64(tx.chainId, "chainId"),
    from: fixedBytes(tx.from, 32, "from"),
    nonce: u64(tx.nonce, "nonce"),
    call: borshL1Call(tx.call),
  });
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
