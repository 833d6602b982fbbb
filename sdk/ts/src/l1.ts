/**
 * ghostd, the L1 node: `ghost_*`, `rollup_*`, `ledger_*`, `naming_*` and
 * `identity_*` (`docs/rpc.md`; views in `crates/l1/types/src/api/`), typed.
 */
import { type BytesLike, normalizeHex } from "./bytes.js";
import type { SignedTx } from "./codec.js";
import { RpcClient, type SubscribeOptions, type Unsubscribe } from "./rpc.js";

/** An L1 block header (`ghost_subscribeNewBlocks` items; `ghost_getBlock` adds `transactions`). */
export interface L1HeaderView {
  number: number;
  hash: string;
  parentHash: string;
  timestampMs: number;
  transactionsHash: string;
  stateDigest: string;
  txCount: number;
}

/** An L1 block. */
export interface L1BlockView extends L1HeaderView {
  transactions: string[];
}

/** An L1 receipt: `module` and `code` name a refusal ([rpc.md](L1 module result codes)). */
export interface L1ReceiptView {
  txHash: string;
  block: number;
  index: number;
  status: "success" | "failed";
  error: string | null;
  module: string | null;
  code: number | null;
  depositIndex: number | null;
  /** borsh, hex. */
  encoded: string;
}

/** `ghost_getTransaction`'s answer. */
export interface L1TransactionView {
  status: "pending" | "included" | "unknown";
  receipt: L1ReceiptView | null;
}

/** `ghost_getAccount`'s answer. */
export interface L1AccountView {
  address: string;
  nonce: number;
  balances: Record<string, string>;
}

/** `rollup_status`'s answer. */
export interface RollupView {
  committedBatch: number;
  finalizedBatch: number;
  finalizedRoot: string;
  committedL2Block: number;
  finalizedL2Block: number;
  nextAccount: number;
  depositsQueued: number;
  depositsConsumed: number;
  forcedQueued: number;
  forcedConsumed: number;
  depositQueueHash: string;
  encoded: string;
}

/** A committed batch (`rollup_getBatch`, `rollup_getBatchOfBlock`). */
export interface BatchView {
  number: number;
  firstBlock: number;
  lastBlock: number;
  pubdataHash: string;
  newRoot: string;
  chunks: number;
  withdrawals: number;
  depositsConsumedTo: number;
  committedAt: number;
  finalizedAt: number | null;
  /**
   * How long the answering L1 node took to verify each chunk's proof when it
   * applied it: that node's own wall-clock measurement, not consensus. Absent
   * or empty when it did not apply the proofs since it started (or the batch is
   * unproven).
   */
  verify?: ChunkVerifyView[];
}

/** One chunk proof as the answering L1 node verified it. */
export interface ChunkVerifyView {
  /** The chunk's index in its batch. */
  chunk: number;
  /** Verification time, microseconds. */
  micros: number;
  /** The proof's length, bytes. */
  proofBytes: number;
}

/** A queued deposit. */
export interface DepositView {
  queueIndex: number;
  l1Block: number;
  recipient: string;
  token: string;
  amount: string;
  l1TxHash: string;
  encoded: string;
}

/** The L2's prices fixed at genesis (`rollup_fees`), decimal strings. */
export interface FeesView {
  fuelPrice: string;
  feeMin: string;
  dataPrice: string;
}

/** `ledger_getAccount`'s answer. */
export interface LedgerAccountView {
  address: string;
  token: string;
  debitsPending: string;
  debitsPosted: string;
  creditsPending: string;
  creditsPosted: string;
  balance: string;
  available: string;
  flags: string[];
  entries: number;
}

/** A name record (`naming_resolve`). */
export type NameRecord =
  | { type: "addr"; coin: number; value: string }
  | { type: "text"; key: string; value: string }
  | { type: "contenthash"; value: string }
  | { type: "dns"; kind: string; value: string; ttl: number }
  | { type: "did"; value: string };

/** A live name (`naming_resolve`). */
export interface NameView {
  name: string;
  node: string;
  owner: string;
  manager: string | null;
  expires: number;
  registered: number;
  state: "active" | "grace";
  records: NameRecord[];
  didLinked: boolean;
  height: number;
}

/** A W3C DID Resolution result (`identity_resolve`). */
export interface DidResolution {
  didDocument: DidDocument | null;
  didDocumentMetadata: Record<string, unknown>;
  didResolutionMetadata: { error?: string; contentType?: string; [key: string]: unknown };
}

/** A DID document (the parts this client reads). */
export interface DidDocument {
  id: string;
  controller?: string[] | string;
  verificationMethod?: { id: string; type: string; controller: string; publicKeyMultibase?: string }[];
  authentication?: string[];
  assertionMethod?: string[];
  [key: string]: unknown;
}

/** `identity_verifyToken`'s verdict. */
export interface TokenVerdict {
  valid: boolean;
  error?: string;
  message?: string;
  claims?: Record<string, unknown>;
  grants?: { permission: string; grantor: string }[];
  height: number;
}

/** A client of ghostd: `new L1Client("http://127.0.0.1:8545", options)`, WebSocket on the same port. */
export class L1Client extends RpcClient {
  // ---- ghost ----

  async chainId(): Promise<bigint> {
    return BigInt(await this.request<number | string>("ghost_chainId"));
  }

  blockNumber(): Promise<number> {
    return this.request("ghost_blockNumber");
  }

  getBlock(height: number): Promise<L1BlockView | null> {
    return this.request("ghost_getBlock", [height]);
  }

  getTransaction(hash: BytesLike): Promise<L1TransactionView> {
    return this.request("ghost_getTransaction", [normalizeHex(hash)]);
  }

  /** An included transaction's borsh encoding (hex), or `null`. */
  getRawTransaction(hash: BytesLike): Promise<string | null> {
    return this.request("ghost_getRawTransaction", [normalizeHex(hash)]);
  }

  /** Nonce and balances of an L1 address. */
  getAccount(address: BytesLike): Promise<L1AccountView> {
    return this.request("ghost_getAccount", [normalizeHex(address)]);
  }

  /** Submits a signed L1 transaction; resolves once it is in the durable mempool. */
  sendTransaction(tx: SignedTx | BytesLike): Promise<{ hash: string }> {
    return this.request("ghost_sendTransaction", [typeof tx === "object" && "hex" in tx ? tx.hex : normalizeHex(tx)]);
  }

  /** Head, mempool size and rollup counters. */
  status(): Promise<{ chainId: number; head: L1HeaderView; mempool: number; rollup: RollupView }> {
    return this.request("ghost_status");
  }

  /** New block headers. */
  subscribeNewBlocks(onHeader: (header: L1HeaderView) => void, options?: SubscribeOptions): Unsubscribe {
    return this.transport.subscribe("ghost_subscribeNewBlocks", [], "ghost_unsubscribeNewBlocks", onHeader, options);
  }

  /** Polls `ghost_getTransaction` until the transaction is included (every `intervalMs`, default 100). */
  async waitForTransaction(hash: BytesLike, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<L1ReceiptView> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const view = await this.getTransaction(hash);
      if (view.status === "included" && view.receipt !== null) return view.receipt;
      if (Date.now() > deadline) throw new Error(`L1 transaction ${normalizeHex(hash)} not included: ${view.status}`);
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  }

  // ---- rollup ----

  rollupStatus(): Promise<RollupView> {
    return this.request("rollup_status");
  }

  getBatch(number: number): Promise<BatchView | null> {
    return this.request("rollup_getBatch", [number]);
  }

  getBatchOfBlock(l2Block: number): Promise<BatchView | null> {
    return this.request("rollup_getBatchOfBlock", [l2Block]);
  }

  /** The L2's prices fixed at genesis. */
  rollupFees(): Promise<FeesView> {
    return this.request("rollup_fees");
  }

  /** Queued deposits from queue index `from`, at most `max` (≤ 1,024). */
  getDeposits(from: number, max: number): Promise<DepositView[]> {
    return this.request("rollup_getDeposits", [from, max]);
  }

  // ---- ledger ----

  ledgerGetAccount(address: BytesLike, token: string): Promise<LedgerAccountView> {
    return this.request("ledger_getAccount", [normalizeHex(address), token]);
  }

  // ---- naming ----

  /** A live name, or `null` if unregistered or released. */
  namingResolve(name: string): Promise<NameView | null> {
    return this.request("naming_resolve", [name]);
  }

  /** A name's owner, manager, expiry, state and records, or `null` if unregistered or released (`naming_resolve`). */
  resolveName(name: string): Promise<NameView | null> {
    return this.namingResolve(name);
  }

  /** The primary name of an L1 key, only if its address record points back. */
  namingReverse(key: BytesLike): Promise<string | null> {
    return this.request("naming_reverse", [normalizeHex(key)]);
  }

  // ---- identity ----

  /** A DID Resolution result (a malformed DID gives `didResolutionMetadata.error`, not an RPC error). */
  identityResolve(did: string, options?: { versionId?: string | number; versionTime?: string }): Promise<DidResolution> {
    return this.request("identity_resolve", options === undefined ? [did] : [did, options]);
  }

  /** Resolves a DID (`identity_resolve`); `didDocument` is `null` when it does not resolve. */
  resolveDid(did: string, options?: { versionId?: string | number; versionTime?: string }): Promise<DidResolution> {
    return this.identityResolve(did, options);
  }

  /** The node's verdict on an access token (signature, times, revocation, grants). */
  identityVerifyToken(jwt: string, options?: { aud?: string; grantors?: string[] }): Promise<TokenVerdict> {
    return this.request("identity_verifyToken", options === undefined ? [jwt] : [jwt, options]);
  }

  /** Closes the WebSocket. */
  close(): void {
    this.transport.close();
  }
}
