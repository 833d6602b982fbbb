/**
 * A key with an L2 account (and optionally the L1): builds, prices, signs and
 * submits transactions. Nonces come from the node (`l2_getAccount`'s
 * `pendingNonce`, `ghost_getAccount`'s `nonce`); one wallet submits one
 * transaction at a time per layer (calls queue), so that two concurrent calls
 * never take the same nonce.
 */
import { type BytesLike, type Hex, toBytes } from "./bytes.js";
import {
  type Recipient,
  type Token,
  type Transaction,
  contractAddress,
  signL1Transaction,
  signTransaction,
} from "./codec.js";
import type { Keypair } from "./keys.js";
import type { L1Client } from "./l1.js";
import type { L2Client } from "./l2.js";

/** Fuel a call gets when none is given (the read-call limit; a transaction may ask up to 100,000,000). */
export const CALL_FUEL_DEFAULT = 10_000_000n;

/** Wallet options. */
export interface WalletOptions {
  l2: L2Client;
  /** Needed for `deposit`. */
  l1?: L1Client;
  key: Keypair;
  /** The L2 chain id (default: asked once with `l2_chainId`). */
  chainId?: bigint;
}

/** A deploy's hash and the address its contract gets. */
export interface Deployed {
  hash: Hex;
  address: Hex;
}

/**
 * The fee offered for a deploy or call: the estimate plus a fifth, as the CLI
 * does (a maximum: what is not used is refunded), since the state may change
 * between the estimate and the inclusion.
 */
function contractFee(total: bigint): bigint {
  return total + total / 5n;
}

/** An L2 account's signer. */
export class Wallet {
  readonly l2: L2Client;
  readonly l1: L1Client | undefined;
  readonly key: Keypair;
  #chainId: bigint | undefined;
  #accountId: number | undefined;
  #l2Queue: Promise<unknown> = Promise.resolve();
  #l1Queue: Promise<unknown> = Promise.resolve();

  constructor(options: WalletOptions) {
    this.l2 = options.l2;
    this.l1 = options.l1;
    this.key = options.key;
    this.#chainId = options.chainId;
  }

  /** The L2 account id of this key (throws if it has none yet: deposit or receive a transfer first). */
  async accountId(): Promise<number> {
    if (this.#accountId === undefined) {
      const account = await this.l2.getAccount(this.key.publicKeyHex);
      if (account === null) throw new Error(`the key ${this.key.publicKeyHex} has no L2 account`);
      this.#accountId = account.id;
    }
    return this.#accountId;
  }

  /** The L2 chain id. */
  async chainId(): Promise<bigint> {
    this.#chainId ??= await this.l2.chainId();
    return this.#chainId;
  }

  /** Transfers to an account id, a `{account}`/`{newAccount}` recipient; fee default: `l2_estimateFee`. */
  transfer(args: { to: number | Recipient; token: Token; amount: bigint; fee?: bigint }): Promise<Hex> {
    const to = typeof args.to === "number" ? { account: args.to } : args.to;
    return this.#submit((from, nonce) => ({ kind: "transfer", from, to, token: args.token, amount: args.amount, fee: 0n, nonce }), args.fee);
  }

  /** Withdraws to an L1 address (released when its batch is final). */
  withdraw(args: { to: BytesLike; token: Token; amount: bigint; fee?: bigint }): Promise<Hex> {
    return this.#submit((from, nonce) => ({ kind: "withdraw", from, to: args.to, token: args.token, amount: args.amount, fee: 0n, nonce }), args.fee);
  }

  /** Deploys a contract; resolves with the hash ({@link deployContract} also gives its address). */
  async deploy(args: { code: BytesLike; init?: BytesLike; token?: Token; value?: bigint; fee?: bigint }): Promise<Hex> {
    return (await this.deployContract(args)).hash;
  }

  /** Deploys a contract; resolves with the hash and the contract's address. */
  async deployContract(args: { code: BytesLike; init?: BytesLike; token?: Token; value?: bigint; fee?: bigint }): Promise<Deployed> {
    let address: Hex | undefined;
    const hash = await this.#submit((from, nonce) => {
      address = contractAddress(from, nonce);
      return {
        kind: "deploy",
        from,
        code: args.code,
        init: args.init ?? "0x",
        token: args.token ?? "GCC",
        value: args.value ?? 0n,
        fee: 0n,
        nonce,
      };
    }, args.fee);
    return { hash, address: address! };
  }

  /** Calls a contract (a transaction: its effects stand once executed). */
  call(args: { contract: BytesLike; input: BytesLike; value?: bigint; token?: Token; fuelLimit?: bigint; fee?: bigint }): Promise<Hex> {
    return this.#submit(
      (from, nonce) => ({
        kind: "call",
        from,
        contract: args.contract,
        input: args.input,
        fuelLimit: args.fuelLimit ?? CALL_FUEL_DEFAULT,
        token: args.token ?? "GCC",
        value: args.value ?? 0n,
        fee: 0n,
        nonce,
      }),
      args.fee,
    );
  }

  /**
   * Deposits from this key's L1 balance into the L2 account of `recipient`
   * (default: this key), signing `RollupCall::Deposit` with the L1 nonce from
   * `ghost_getAccount`. Resolves with the L1 transaction's hash.
   */
  deposit(args: { recipient?: BytesLike; token: Token; amount: bigint }): Promise<Hex> {
    const l1 = this.l1;
    if (l1 === undefined) return Promise.reject(new Error("deposit needs the wallet's `l1` client"));
    return this.#serialize("l1", async () => {
      const [chainId, account] = await Promise.all([l1.chainId(), l1.getAccount(this.key.publicKeyHex)]);
      const signed = signL1Transaction(
        {
          chainId,
          from: this.key.publicKey,
          nonce: BigInt(account.nonce),
          call: { kind: "deposit", recipient: toBytes(args.recipient ?? this.key.publicKey), token: args.token, amount: args.amount },
        },
        this.key,
      );
      await l1.sendTransaction(signed);
      return signed.hash;
    });
  }

  /** Builds with the account's next nonce, prices (unless `fee` is given), signs and submits. */
  #submit(build: (from: number, nonce: bigint) => Transaction, fee: bigint | undefined): Promise<Hex> {
    return this.#serialize("l2", async () => {
      const from = await this.accountId();
      const [chainId, account] = await Promise.all([this.chainId(), this.l2.getAccount(from)]);
      if (account === null) throw new Error(`account ${from} is gone`);
      const tx = build(from, BigInt(account.pendingNonce));
      tx.fee = fee ?? (await this.#estimate(tx));
      const signed = signTransaction(tx, this.key, chainId);
      await this.l2.sendTransaction(signed);
      return signed.hash;
    });
  }

  async #estimate(tx: Transaction): Promise<bigint> {
    const total = BigInt((await this.l2.estimateFee(tx)).total);
    return tx.kind === "deploy" || tx.kind === "call" ? contractFee(total) : total;
  }

  /** Runs `task` after the previous one of the same layer has settled. */
  #serialize<T>(layer: "l1" | "l2", task: () => Promise<T>): Promise<T> {
    const previous = layer === "l1" ? this.#l1Queue : this.#l2Queue;
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    if (layer === "l1") this.#l1Queue = settled;
    else this.#l2Queue = settled;
    return next;
  }
}
