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

import { BorshReader, toHex } from "@ghostplane/client";

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

/** Decodes a signed L1 transaction (throws on bytes it cannot read). */
export function decodeL1Transaction(bytes: Uint8Array): L1TxInfo {
  const r = new BorshReader(bytes);
  const chainId = r.u64();
  const from = toHex(r.fixed(32));
  const nonce = r.u64();
  const call = readCall(r);
  return { chainId, from, nonce, call, size: bytes.length };
}

function readCall(r: BorshReader): L1CallInfo {
  const moduleTag = r.u8();
  const module = MODULES[moduleTag];
  if (module === undefined) throw new RangeError(`unknown L1 module tag ${moduleTag}`);
  const kindTag = r.u8();
  const kind = CALLS[module]?.[kindTag] ?? `call ${kindTag}`;
  const info: L1CallInfo = { module, kind };
  if (module === "rollup") {
    if (kind === "Deposit") info.payment = readPayment(r);
    else if (kind === "Commit") info.commit = readCommit(r);
    else if (kind === "Prove") {
      const batch = Number(r.u64());
      info.proofs = readProofs(r, batch, r.u32());
    } else if (kind === "CommitProven") {
      info.commit = readCommit(r);
      info.proofs = readProofs(r, info.commit.batch, 0);
    }
  } else if (module === "ledger" && kind === "Transfer") {
    r.u128(); // the client's transfer id
    info.payment = readPayment(r);
  }
  return info;
}

/** `to [32] ‖ token u8 ‖ amount u128`: the tail of a deposit and of a ledger transfer. */
function readPayment(r: BorshReader): { to: string; token: string; amount: bigint } {
  const to = toHex(r.fixed(32));
  const tokenId = r.u8();
  const amount = r.u128();
  return { to, token: TOKENS[tokenId] ?? `token ${tokenId}`, amount };
}

function readCommit(r: BorshReader): CommitInfo {
  const batch = Number(r.u64());
  const firstBlock = Number(r.u64());
  const lastBlock = Number(r.u64());
  const feeAccount = r.u32();
  const pubdataBytes = skipBytes(r);
  const newRoot = toHex(r.fixed(32));
  const chunkCount = r.u32();
  return { batch, firstBlock, lastBlock, feeAccount, pubdataBytes, newRoot, chunkCount };
}

function readProofs(r: BorshReader, batch: number, firstChunk: number): ProofsInfo {
  const rootCount = r.u32();
  const chunkRoots: string[] = [];
  for (let i = 0; i < rootCount; i++) chunkRoots.push(toHex(r.fixed(32)));
  const proofCount = r.u32();
  const proofSizes: number[] = [];
  for (let i = 0; i < proofCount; i++) proofSizes.push(skipBytes(r));
  return { batch, firstChunk, chunkRoots, proofSizes };
}

/** Skips a `Vec<u8>` and returns its length (commits and proofs run to megabytes). */
function skipBytes(r: BorshReader): number {
  const len = r.u32();
  r.fixed(len);
  return len;
}
