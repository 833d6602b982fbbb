/**
 * The two nodes the explorer reads, through `@ghostplane/client`: the L2 sequencer
 * (the page's own origin) and the L1, ghostd (`config.json`'s `l1Url`, which the
 * node serves beside the app), and the look-ups several pages share. The answers'
 * shapes are the client's types (`docs/rpc.md`).
 */

import {
  type BatchView,
  type L1BlockView,
  L1Client,
  type L1TransactionView,
  L2Client,
  fromHex,
  isRpcError,
} from "@ghostplane/client";
import { type L1TxInfo, decodeL1Transaction } from "./l1decode";

/** The explorer's connections. */
export let l2: L2Client;
export let l1: L1Client;
/** Where the L1 is read (shown when it does not answer). */
export let l1Url = "";

/** Reads `config.json` and opens the clients (the L2 is the page's own origin). */
export async function connect(): Promise<void> {
  const response = await fetch("config.json");
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as { l1Url?: string };
  if (typeof config.l1Url !== "string") throw new Error("config.json has no l1Url");
  l2 = new L2Client(location.origin);
  l1 = new L1Client(config.l1Url);
  l1Url = config.l1Url;
}

/** Whether a contract is deployed at `address` (`l2_getStorage` refuses any other address). */
export async function isContract(address: string): Promise<boolean> {
  try {
    await l2.getStorage(address, "00".repeat(32));
    return true;
  } catch (e) {
    if (isRpcError(e, "UNKNOWN_CONTRACT")) return false;
    throw e;
  }
}

/** An included L1 transaction: where it is, how it ended, and what it asked. */
export interface L1Tx {
  hash: string;
  view: L1TransactionView;
  decoded: L1TxInfo | undefined;
  /** Why it could not be decoded, if it could not. */
  decodeError?: string;
}

/** Fetches and decodes one L1 transaction (`null` if the L1 never saw it). */
export async function l1Transaction(hash: string): Promise<L1Tx | null> {
  const [view, raw] = await Promise.all([l1.getTransaction(hash), l1.getRawTransaction(hash)]);
  if (view.status === "unknown") return null;
  const tx: L1Tx = { hash, view, decoded: undefined };
  if (raw !== null) {
    try {
      tx.decoded = decodeL1Transaction(fromHex(raw));
    } catch (e) {
      tx.decodeError = String(e);
    }
  }
  return tx;
}

/** Most L1 blocks scanned for a batch's commit and proofs. */
const BATCH_SCAN_BLOCKS_MAX = 256;

/** The L1 transactions that committed and proved a batch. */
export interface BatchTxs {
  commit: L1Tx | undefined;
  proofs: L1Tx[];
  /** The scan stopped at its bound before the finalizing block. */
  truncated: boolean;
  /** Sealing times of the commit and finalizing L1 blocks. */
  committedMs: number | undefined;
  finalizedMs: number | undefined;
}

/**
 * Finds a batch's commit (in `committedAt`) and its proof transactions (proofs may
 * come in several transactions, in the L1 blocks from the commit to `finalizedAt`).
 */
export async function batchTransactions(batch: BatchView): Promise<BatchTxs> {
  const last = batch.finalizedAt ?? (await l1.blockNumber());
  const end = Math.min(last, batch.committedAt + BATCH_SCAN_BLOCKS_MAX - 1);
  const heights: number[] = [];
  for (let n = batch.committedAt; n <= end; n++) heights.push(n);
  const blocks: (L1BlockView | null)[] = await Promise.all(heights.map((n) => l1.getBlock(n)));
  const found: BatchTxs = {
    commit: undefined,
    proofs: [],
    truncated: end < last,
    committedMs: blocks[0]?.timestampMs,
    finalizedMs: batch.finalizedAt !== null && end === last ? blocks[blocks.length - 1]?.timestampMs : undefined,
  };
  for (const block of blocks) {
    if (block === null || block.txCount === 0) continue;
    const txs = await Promise.all(block.transactions.map(l1Transaction));
    for (const tx of txs) {
      const call = tx?.decoded?.call;
      if (tx === null || call === undefined || tx.view.receipt?.status !== "success") continue;
      if (call.commit?.batch === batch.number) found.commit = tx;
      if (call.proofs?.batch === batch.number) found.proofs.push(tx);
    }
  }
  return found;
}
