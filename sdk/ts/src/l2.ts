/**
 * The L2 sequencer's `l2_*` JSON-RPC methods (`docs/rpc.md`, views in
 * `crates/l2/l2-api/src/views.rs` and `status.rs`), typed. Answers are returned
 * as the node sends them (amounts as decimal strings, u64 counters as numbers),
 * except where a wrapper says it converts (`chainId`, `minFee`: `bigint`).
 */
import { type BytesLike, type Hex, normalizeHex, toBytes, toHex } from "./bytes.js";
import { type SignedTx, type Transaction, encodeTransaction } from "./codec.js";
import { TimeoutError } from "./errors.js";
import { RpcClient, type SubscribeOptions, type Unsubscribe } from "./rpc.js";

/** `l2_sendTransaction`'s answer. */
export interface Accepted {
  hash: Hex;
  status: "accepted";
}

/** One answer of `l2_sendTransactionBatch`: accepted, or refused with the error's code. */
export type BatchItem = Accepted | { error: { code: number; message: string; data: unknown } };

/** An account (`l2_getAccount`). */
export interface AccountView {
  id: number;
  publicKey: string;
  nonce: number;
  /** The next nonce to use: the nonce plus the transactions pending in the pool. */
  pendingNonce: number;
  /** By token symbol, decimal strings. */
  balances: Record<string, string>;
}

/** A block (`l2_getBlock`, `l2_subscribeNewBlocks`). */
export interface BlockView {
  number: number;
  hash: string;
  parentHash: string;
  timestampMs: number;
  feeAccount: number;
  txCount: number;
  transactionsHash: string;
  executionDigest: string;
  /** The transactions' hashes. */
  transactions: string[];
}

/** An event a contract emitted. */
export interface EventView {
  contract: string;
  topic: string;
  /** Hex. */
  data: string;
}

/**
 * An included transaction's fields as `l2_getTransaction` gives them: amounts,
 * fees, nonces and fuel as decimal strings, bytes as hex; a deploy names its code
 * by hash and length (the code is in `raw`) and the address it deploys to.
 */
export type TransactionFields =
  | { kind: "transfer"; from: number; to: { account: number } | { newAccount: string }; token: string; amount: string; fee: string; nonce: string }
  | { kind: "withdraw"; from: number; to: string; token: string; amount: string; fee: string; nonce: string }
  | { kind: "deploy"; from: number; codeHash: string; codeBytes: number; init: string; token: string; value: string; fee: string; nonce: string; contract: string }
  | { kind: "call"; from: number; contract: string; input: string; fuelLimit: string; token: string; value: string; fee: string; nonce: string };

/** An included transaction (`l2_getTransaction`). */
export interface TransactionView {
  hash: string;
  block: number;
  index: number;
  /** The chain id it was signed for (decimal). */
  chainId: string;
  signer: string;
  signature: string;
  tx: TransactionFields;
  /** The signed encoding, as submitted (decode with `decodeSignedTransaction`). */
  raw: string;
}

/** A receipt (`l2_getTransactionReceipt`, `l2_getBlockReceipts`). */
export interface ReceiptView {
  txHash: string;
  block: number;
  index: number;
  status: "success" | "failed";
  error: string | null;
  gasUsed: number;
  feePaid: string;
  events: EventView[];
  returnData: string;
  revertData?: string;
}

/** Where a transaction is (`l2_getTransactionStatus`, `l2_subscribeTransactionStatus`). */
export type TxStatus =
  | { status: "received" | "accepted" | "unknown" }
  | { status: "executed" | "committed" | "finalized"; block: number; success: boolean }
  | { status: "rejected" | "dropped"; reason: string };

/** A status name. */
export type TxStatusName = TxStatus["status"];

/** A withdrawal (`l2_getWithdrawal`). */
export interface WithdrawalView {
  txHash: string;
  block: number;
  index: number;
  forced: boolean;
  account: number;
  recipient: string;
  token: string;
  amount: string;
  state: "failed" | "executed" | "committed" | "released";
}

/** `l2_estimateFee`'s answer (decimal strings for amounts). */
export interface FeeEstimateView {
  execution: string;
  pubdataBytes: number;
  dataPrice: string;
  pubdata: string;
  total: string;
  gasUsed: number;
  status: string;
  failure?: string;
  block: number;
}

/** `l2_feeHistory`'s answer. */
export interface FeeHistoryView {
  fuelPrice: string;
  feeMin: string;
  dataPrice: string;
  blocks: { number: number; items: number; gasUsed: number; feesPaid: string; pubdataBytes: number }[];
}

/** `l2_call`'s request. */
export interface CallRequest {
  contract: BytesLike;
  input?: BytesLike;
  /** The caller's account id (default: an id no account has). */
  from?: number;
  /** At most 10,000,000 (the default). */
  fuel?: number;
}

/** `l2_call`'s answer: effects reported, then discarded. */
export interface CallView {
  block: number;
  status: string;
  failure?: string;
  returnData: string;
  revertData?: string;
  fuelUsed: number;
  events: EventView[];
  discardedWrites: number;
  discardedMoves: number;
}

/** A log filter (`l2_getLogs`, `l2_subscribeLogs`). */
export interface LogFilter {
  contract?: BytesLike;
  /** Any of up to 16 topics (32 bytes each). */
  topics?: BytesLike[];
  fromBlock?: number;
  toBlock?: number;
  /** A page's `next`, or a log's `position`: resume after it. */
  after?: string;
  /** At most 1,000. */
  limit?: number;
}

/** A log. */
export interface LogView {
  block: number;
  txIndex: number;
  logIndex: number;
  /** `block:tx:log`. */
  position: string;
  txHash: string;
  contract: string;
  topic: string;
  data: string;
}

/** A page of logs; `next` resumes after it. */
export interface LogPageView {
  logs: LogView[];
  next?: string;
}

/** `l2_getProof`'s answer (check it with `verifyProof`). */
export interface ProofView {
  batch: number;
  root: string;
  treeHash: string;
  account: number;
  leaf: { key: string; nonce: number; balances: string[] } | null;
  siblings: string[];
  contract?: {
    address: string;
    codeHash: string;
    storageRoot: string;
    storage: {
      key: string;
      value: string | null;
      held?: { key: string; value: string };
      occupied: string;
      siblings: string[];
    }[];
  };
}

/** The order of the statuses a transaction goes through on its way to `finalized`. */
const STATUS_RANK: Partial<Record<TxStatusName, number>> = { executed: 1, committed: 2, finalized: 3 };

/** A transaction the L2 refused or dropped while it was awaited. */
export class TransactionFailedError extends Error {
  constructor(
    readonly hash: string,
    readonly status: TxStatus,
  ) {
    super(`transaction ${hash} was ${status.status}${"reason" in status ? `: ${status.reason}` : ""}`);
    this.name = "TransactionFailedError";
  }
}

function filterParams(filter: LogFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (filter.contract !== undefined) out.contract = normalizeHex(filter.contract);
  if (filter.topics !== undefined) out.topics = filter.topics.map(normalizeHex);
  if (filter.fromBlock !== undefined) out.fromBlock = filter.fromBlock;
  if (filter.toBlock !== undefined) out.toBlock = filter.toBlock;
  if (filter.after !== undefined) out.after = filter.after;
  if (filter.limit !== undefined) out.limit = filter.limit;
  return out;
}

function signedHex(tx: SignedTx | BytesLike): Hex {
  return typeof tx === "object" && "hex" in tx ? tx.hex : normalizeHex(tx);
}

/** A client of the L2 sequencer: `new L2Client("http://127.0.0.1:9090", options)`, WebSocket on the same port. */
export class L2Client extends RpcClient {
  /** The L2 chain id. */
  async chainId(): Promise<bigint> {
    return BigInt(await this.request<number | string>("l2_chainId"));
  }

  /** The last block's number. */
  blockNumber(): Promise<number> {
    return this.request("l2_blockNumber");
  }

  getBlock(number: number): Promise<BlockView | null> {
    return this.request("l2_getBlock", [number]);
  }

  getBlockByHash(hash: BytesLike): Promise<BlockView | null> {
    return this.request("l2_getBlockByHash", [normalizeHex(hash)]);
  }

  /** Receipts of block `number` from position `from`, at most 4,096 a call; `null` if not executed. */
  getBlockReceipts(number: number, from?: number): Promise<ReceiptView[] | null> {
    return this.request("l2_getBlockReceipts", from === undefined ? [number] : [number, from]);
  }

  /** An account by id or public key, or `null`. */
  getAccount(account: number | BytesLike): Promise<AccountView | null> {
    return this.request("l2_getAccount", [typeof account === "number" ? account : normalizeHex(account)]);
  }

  getTransactionStatus(hash: BytesLike): Promise<TxStatus> {
    return this.request("l2_getTransactionStatus", [normalizeHex(hash)]);
  }

  /** An included transaction: its fields, signer and signed encoding; `null` until executed. */
  getTransaction(hash: BytesLike): Promise<TransactionView | null> {
    return this.request("l2_getTransaction", [normalizeHex(hash)]);
  }

  getTransactionReceipt(hash: BytesLike): Promise<ReceiptView | null> {
    return this.request("l2_getTransactionReceipt", [normalizeHex(hash)]);
  }

  /** A withdrawal by its transaction's hash; `null` if not executed. */
  getWithdrawal(hash: BytesLike): Promise<WithdrawalView | null> {
    return this.request("l2_getWithdrawal", [normalizeHex(hash)]);
  }

  /** Submits a signed transaction over HTTP; resolves once it is durable in the WAL. */
  sendTransaction(tx: SignedTx | BytesLike): Promise<Accepted> {
    return this.request("l2_sendTransaction", [signedHex(tx)]);
  }

  /** Submits a signed transaction over the WebSocket (many may be in flight on it). */
  sendTransactionWs(tx: SignedTx | BytesLike): Promise<Accepted> {
    return this.transport.wsRequest("l2_sendTransaction", [signedHex(tx)]);
  }

  /** Submits up to 1,024 signed transactions; one answer each, in order. */
  sendTransactionBatch(txs: (SignedTx | BytesLike)[]): Promise<BatchItem[]> {
    return this.request("l2_sendTransactionBatch", [txs.map(signedHex)]);
  }

  /** The fee of an unsigned transaction (its fee and nonce are ignored). */
  estimateFee(tx: Transaction | BytesLike): Promise<FeeEstimateView> {
    const encoded = typeof tx === "object" && "kind" in tx ? encodeTransaction(tx) : toBytes(tx);
    return this.request("l2_estimateFee", [toHex(encoded)]);
  }

  /** Prices and the last `blocks` blocks' fees (≤ 1,024), oldest first. */
  feeHistory(blocks: number): Promise<FeeHistoryView> {
    return this.request("l2_feeHistory", [blocks]);
  }

  /** The least fee of a transfer between existing accounts. */
  async minFee(): Promise<bigint> {
    return BigInt(await this.request<string>("l2_minFee"));
  }

  /** A read call on the latest executed state (effects discarded). */
  call(request: CallRequest): Promise<CallView> {
    const params: Record<string, unknown> = { contract: normalizeHex(request.contract) };
    if (request.input !== undefined) params.input = normalizeHex(request.input);
    if (request.from !== undefined) params.from = request.from;
    if (request.fuel !== undefined) params.fuel = request.fuel;
    return this.request("l2_call", [params]);
  }

  /** A storage slot's value (hex, `""` when empty), or `null` if absent. */
  getStorage(contract: BytesLike, key: BytesLike): Promise<string | null> {
    return this.request("l2_getStorage", [normalizeHex(contract), normalizeHex(key)]);
  }

  /** A Merkle proof of an account (id or key) or contract (address, with up to 64 storage keys). */
  getProof(target: number | BytesLike, keys?: BytesLike[]): Promise<ProofView> {
    const t = typeof target === "number" ? String(target) : normalizeHex(target);
    return this.request("l2_getProof", keys === undefined ? [t] : [t, keys.map(normalizeHex)]);
  }

  getLogs(filter: LogFilter = {}): Promise<LogPageView> {
    return this.request("l2_getLogs", [filterParams(filter)]);
  }

  /** The QUIC server certificate (DER, hex). */
  quicCertificate(): Promise<string> {
    return this.request("l2_quicCertificate");
  }

  /** Each new block. */
  subscribeNewBlocks(onBlock: (block: BlockView) => void, options?: SubscribeOptions): Unsubscribe {
    return this.transport.subscribe("l2_subscribeNewBlocks", [], "l2_unsubscribeNewBlocks", onBlock, options);
  }

  /** Each status change of a transaction, the current one first, until `finalized`. */
  subscribeTransactionStatus(hash: BytesLike, onStatus: (status: TxStatus) => void, options?: SubscribeOptions): Unsubscribe {
    return this.transport.subscribe(
      "l2_subscribeTransactionStatus",
      [normalizeHex(hash)],
      "l2_unsubscribeTransactionStatus",
      onStatus,
      options,
    );
  }

  /** Each selected event once, in chain order (from `fromBlock`/`after` if given, else new blocks). */
  subscribeLogs(filter: LogFilter, onLog: (log: LogView) => void, options?: SubscribeOptions): Unsubscribe {
    return this.transport.subscribe("l2_subscribeLogs", [filterParams(filter)], "l2_unsubscribeLogs", onLog, options);
  }

  /**
   * Waits (by subscription) until the transaction is at least `target`
   * (`executed` < `committed` < `finalized`) and resolves with that status (check
   * its `success`). Rejects with {@link TransactionFailedError} if it is rejected
   * or dropped, {@link TimeoutError} after `timeoutMs` (default 120,000).
   */
  waitForStatus(
    hash: BytesLike,
    target: "executed" | "committed" | "finalized",
    options: { timeoutMs?: number } = {},
  ): Promise<Extract<TxStatus, { block: number }>> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const wanted = STATUS_RANK[target]!;
    const h = normalizeHex(hash);
    return new Promise((resolve, reject) => {
      let unsubscribe: Unsubscribe | undefined;
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        unsubscribe?.();
        outcome();
      };
      const timer = setTimeout(
        () => finish(() => reject(new TimeoutError(`transaction ${h} not ${target} in ${timeoutMs} ms`))),
        timeoutMs,
      );
      unsubscribe = this.subscribeTransactionStatus(
        h,
        (status) => {
          if (status.status === "rejected" || status.status === "dropped") {
            finish(() => reject(new TransactionFailedError(h, status)));
          } else if ((STATUS_RANK[status.status] ?? 0) >= wanted) {
            finish(() => resolve(status as Extract<TxStatus, { block: number }>));
          }
        },
        { onError: (e) => finish(() => reject(e)) },
      );
    });
  }

  /** Closes the WebSocket (subscriptions end). */
  close(): void {
    this.transport.close();
  }
}
