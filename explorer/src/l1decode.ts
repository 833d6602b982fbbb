/**
 * Reading L1 transactions from their borsh encoding (`ghost_getRawTransaction`),
 * as `crates/l1/types/src/tx.rs` defines them:
 *
 * ```text
 * SignedL1Transaction = L1Transaction ‖ signature [64]
 * L1Transaction       = chain_id u64 ‖ from [32] ‖ nonce u64 ‖ Call
 * Call                = 0 Ledger(LedgerCall) | 1 Rollup(RollupCall) | 2 Identity(…) | 3 Naming(…)
 * RollupCall          = 0 Deposit{recipient [32], token u8, amount u128}
 *                     | 1 Commit(BatchCommit) | 2 Prove{number u64, first_chunk u32,
 *                       chunk_roots Vec<[32]>, proofs Vec<Vec<u8>>}
 *                     | 3 CommitProven{commit BatchCommit, chunk_roots, proofs} | 4…7 (named only)
 * BatchCommit         = number u64 ‖ first_block u64 ‖ last_block u64 ‖ fee_account u32
 *                       ‖ pubdata Vec<u8> ‖ new_root [32] ‖ chunk_count u32
 * ```
 *
 * The rollup's commit and prove calls are read in full (batch number, block range,
 * pubdata and proof sizes, chunk roots); other calls are named by their module and
 * variant, with the few fields a reader wants for deposits and ledger transfers.
 */

import { toHex } from "@ghostplane/client";
import { type Schema, deserialize } from "borsh";

/** `L1_TX_BYTES_MAX`: the L1 refuses longer transactions, and so does this decoder, before reading. */
const L1_TX_BYTES_MAX = 4 * 1024 * 1024;

const TOKENS = ["GCC", "SPIRIT", "MANA", "GHOST"];

/** Variant names of each module's call enum, in declaration (tag) order. */
const CALLS: Record<string, string[]> = {
  ledger: ["Transfer", "Ops", "SetAccountFlags", "SetIssuer"],
  rollup: ["Deposit", "Commit", "Prove", "CommitProven", "ActivateExit", "ExitClaim", "ForceWithdraw", "RevertBatches"],
  identity: [
    "Create",
    "AddMethod",
    "RemoveMethod",
    "SetRelationships",
    "RotateKey",
    "AddService",
    "RemoveService",
    "SetControllers",
    "SetAlsoKnownAs",
    "Deactivate",
    "Grant",
    "Revoke",
    "RevokeToken",
  ],
  naming: ["Register", "Renew", "Transfer", "SetManager", "CreateSubname", "SetRecord", "ClearRecord", "SetPrimary"],
};
const MODULES = ["ledger", "rollup", "identity", "naming"];

/** A batch commit's header (its pubdata by size only). */
export interface CommitInfo {
  batch: number;
  firstBlock: number;
  lastBlock: number;
  feeAccount: number;
  pubdataBytes: number;
  newRoot: string;
  chunkCount: number;
}

/** Proofs of consecutive chunks of one batch. */
export interface ProofsInfo {
  batch: number;
  firstChunk: number;
  chunkRoots: string[];
  proofSizes: number[];
}

/** What an L1 transaction asks, as far as the explorer reads it. */
export interface L1CallInfo {
  module: string;
  kind: string;
  commit?: CommitInfo;
  proofs?: ProofsInfo;
  /** A deposit or ledger transfer: who gets what. */
  payment?: { to: string; token: string; amount: bigint };
}

/** A decoded signed L1 transaction. */
export interface L1TxInfo {
  chainId: bigint;
  from: string;
  nonce: bigint;
  call: L1CallInfo;
  /** Size of the encoding. */
  size: number;
}

const BYTES32: Schema = { array: { type: "u8", len: 32 } };
const BYTE_VEC: Schema = { array: { type: "u8" } };

/** What every L1 transaction starts with: the envelope, then the call's module and variant tags. */
const HEADER: Schema = { struct: { chainId: "u64", from: BYTES32, nonce: "u64", module: "u8", kind: "u8" } };
/** `HEADER`'s size: u64 + 32 + u64 + two u8 tags. */
const HEADER_BYTES = 8 + 32 + 8 + 1 + 1;

/*
 * The calls read in full, after the two tags. Their byte vectors (pubdata,
 * proofs) are decoded by borsh-js into `number[]`s of which only the lengths are
 * kept: about 0.1 s per MiB in Node 20, and an L1 transaction is at most 4 MiB.
 */
const PAYMENT = { to: BYTES32, token: "u8", amount: "u128" } as const;
const LEDGER_TRANSFER: Schema = { struct: { id: "u128", ...PAYMENT } };
const DEPOSIT: Schema = { struct: PAYMENT };
const BATCH_COMMIT: Schema = {
  struct: { batch: "u64", firstBlock: "u64", lastBlock: "u64", feeAccount: "u32", pubdata: BYTE_VEC, newRoot: BYTES32, chunkCount: "u32" },
};
const CHUNK_ROOTS: Schema = { array: { type: BYTES32 } };
const PROOFS: Schema = { array: { type: BYTE_VEC } };
const PROVE: Schema = { struct: { batch: "u64", firstChunk: "u32", chunkRoots: CHUNK_ROOTS, proofs: PROOFS } };
const COMMIT_PROVEN: Schema = { struct: { commit: BATCH_COMMIT, chunkRoots: CHUNK_ROOTS, proofs: PROOFS } };

/** Decoded shapes (borsh-js gives byte arrays as `number[]`). */
type Bytes = number[];
interface Header {
  chainId: bigint;
  from: Bytes;
  nonce: bigint;
  module: number;
  kind: number;
}
interface Payment {
  to: Bytes;
  token: number;
  amount: bigint;
}
interface Commit {
  batch: bigint;
  firstBlock: bigint;
  lastBlock: bigint;
  feeAccount: number;
  pubdata: Bytes;
  newRoot: Bytes;
  chunkCount: number;
}
interface Proofs {
  chunkRoots: Bytes[];
  proofs: Bytes[];
}

const hex = (bytes: Bytes): string => toHex(Uint8Array.from(bytes));

/** `schema` from `bytes` (a prefix: what follows is not checked), a `RangeError` if the bytes are short or wrong. */
function read<T>(schema: Schema, bytes: Uint8Array): T {
  try {
    return deserialize(schema, bytes) as T;
  } catch (e) {
    throw new RangeError(`not an L1 transaction: ${(e as Error).message}`);
  }
}

/**
 * Decodes a signed L1 transaction (throws on bytes it cannot read). Of a call
 * not read in full only the tags are read, so the explorer names it and no more.
 */
export function decodeL1Transaction(bytes: Uint8Array): L1TxInfo {
  if (bytes.length > L1_TX_BYTES_MAX) throw new RangeError(`an L1 transaction is at most ${L1_TX_BYTES_MAX} bytes, got ${bytes.length}`);
  const header = read<Header>(HEADER, bytes.subarray(0, HEADER_BYTES));
  const module = MODULES[header.module];
  if (module === undefined) throw new RangeError(`unknown L1 module tag ${header.module}`);
  const kind = CALLS[module]?.[header.kind] ?? `call ${header.kind}`;
  const call: L1CallInfo = { module, kind };
  const fields = bytes.subarray(HEADER_BYTES);
  switch (`${module} ${kind}`) {
    case "ledger Transfer":
      call.payment = paymentInfo(read<Payment>(LEDGER_TRANSFER, fields));
      break;
    case "rollup Deposit":
      call.payment = paymentInfo(read<Payment>(DEPOSIT, fields));
      break;
    case "rollup Commit":
      call.commit = commitInfo(read<Commit>(BATCH_COMMIT, fields));
      break;
    case "rollup Prove": {
      const prove = read<Proofs & { batch: bigint; firstChunk: number }>(PROVE, fields);
      call.proofs = proofsInfo(Number(prove.batch), prove.firstChunk, prove);
      break;
    }
    case "rollup CommitProven": {
      const proven = read<Proofs & { commit: Commit }>(COMMIT_PROVEN, fields);
      call.commit = commitInfo(proven.commit);
      call.proofs = proofsInfo(call.commit.batch, 0, proven);
      break;
    }
  }
  return { chainId: header.chainId, from: hex(header.from), nonce: header.nonce, call, size: bytes.length };
}

function paymentInfo(p: Payment): { to: string; token: string; amount: bigint } {
  return { to: hex(p.to), token: TOKENS[p.token] ?? `token ${p.token}`, amount: p.amount };
}

function commitInfo(c: Commit): CommitInfo {
  return {
    batch: Number(c.batch),
    firstBlock: Number(c.firstBlock),
    lastBlock: Number(c.lastBlock),
    feeAccount: c.feeAccount,
    pubdataBytes: c.pubdata.length,
    newRoot: hex(c.newRoot),
    chunkCount: c.chunkCount,
  };
}

function proofsInfo(batch: number, firstChunk: number, p: Proofs): ProofsInfo {
  return { batch, firstChunk, chunkRoots: p.chunkRoots.map(hex), proofSizes: p.proofs.map((proof) => proof.length) };
}
