/**
 * Against a running devnet (`ghostplane devnet`): GHOSTPLANE_L2_URL and
 * GHOSTPLANE_L1_URL (http://127.0.0.1:PORT), GHOSTPLANE_AMM_WASM (and
 * GHOSTPLANE_TOKEN_WASM) the compiled AssemblyScript contracts. Skipped with a
 * message when they are unset. Dev keys: 1→2 transfer, 3 bridge, 4 and 5 AMM,
 * 6 and 7 refusals, 0 identity.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, after, describe, test } from "node:test";

import { base64urlnopad } from "@scure/base";

import {
  AMM_INTERFACE,
  TOKEN_INTERFACE,
  type Hex,
  Keypair,
  L1Client,
  L2Client,
  ProofError,
  type RpcError,
  type RpcErrorName,
  type Transaction,
  Wallet,
  bindContract,
  decodeEvent,
  decodeReturn,
  decodeSignedTransaction,
  normalizeHex,
  didOfKey,
  encodeInit,
  eventTopic,
  isRpcError,
  signL1Transaction,
  signTransaction,
  toHex,
  utf8,
  verifyAccessToken,
  verifyProof,
  resolveName,
  FeeBelowMinimumError,
  NonceTooLowError,
  TokenVerificationError,
} from "../src/index.js";
import { WebSocket } from "../src/node.js";

const L2_URL = process.env.GHOSTPLANE_L2_URL;
const L1_URL = process.env.GHOSTPLANE_L1_URL;
const AMM_WASM = process.env.GHOSTPLANE_AMM_WASM;
const TOKEN_WASM = process.env.GHOSTPLANE_TOKEN_WASM;
const skip = L2_URL === undefined || L1_URL === undefined ? "GHOSTPLANE_L2_URL / GHOSTPLANE_L1_URL unset: no devnet to test against" : false;
if (skip) console.log(`live tests skipped: ${skip}`);

const FINAL_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value that is not `undefined`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = FINAL_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Asserts `promise` fails with the RPC error `name`, and returns it. */
async function refused(name: RpcErrorName, promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isRpcError(e, name), `expected ${name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${name}, but it succeeded`);
}

describe("devnet", { skip }, () => {
  let l2: L2Client;
  let l1: L1Client;
  let chainId: bigint;
  let amm: Hex | undefined;
  let ammSettled: Hex | undefined;
  let transferHash: Hex | undefined;

  before(async () => {
    l2 = new L2Client(L2_URL!, { WebSocket });
    l1 = new L1Client(L1_URL!, { WebSocket });
    chainId = await l2.chainId();
  });
  after(() => {
    l2?.close();
    l1?.close();
  });

  test("a transfer, followed to finalized by subscription; blocks and receipts", async () => {
    const wallet = new Wallet({ l2, key: Keypair.dev(1) });
    assert.equal(await wallet.accountId(), 1);
    const blocks: number[] = [];
    const unsubscribe = l2.subscribeNewBlocks((b) => blocks.push(b.number));
    await unsubscribe.ready;
    const before = await l2.getAccount(2);
    const hash = await wallet.transfer({ to: 2, token: "SPIRIT", amount: 1234n });
    transferHash = hash;
    const statuses: string[] = [];
    const watch = l2.subscribeTransactionStatus(hash, (s) => statuses.push(s.status));
    const executed = await l2.waitForStatus(hash, "executed");
    assert.equal(executed.success, true);
    const finalized = await l2.waitForStatus(hash, "finalized", { timeoutMs: FINAL_MS });
    assert.equal(finalized.status, "finalized");
    watch();
    unsubscribe();
    assert.ok(statuses.length > 0, "no status notified");
    assert.ok(blocks.length > 0, "no new block notified");
    const after = await l2.getAccount(2);
    assert.equal(BigInt(after!.balances.SPIRIT!) - BigInt(before!.balances.SPIRIT!), 1234n);
    const receipt = await l2.getTransactionReceipt(hash);
    assert.equal(receipt?.status, "success");
    // The transaction itself, as included: its fields, and bytes that decode to them.
    const included = await l2.getTransaction(hash);
    assert.equal(included?.block, receipt?.block);
    assert.deepEqual(
      { kind: included?.tx.kind, from: included?.tx.from, token: included?.tx.token },
      { kind: "transfer", from: 1, token: "SPIRIT" },
    );
    const decoded = decodeSignedTransaction(included!.raw);
    assert.equal(decoded.tx.kind, "transfer");
    assert.equal(decoded.tx.kind === "transfer" && decoded.tx.amount, 1234n);
    assert.equal(normalizeHex(decoded.hash), normalizeHex(hash));
    assert.equal(await l2.getTransaction("0x" + "ab".repeat(32)), null);
    const block = await l2.getBlock(finalized.block);
    assert.ok(block?.transactions.map(normalizeHex).includes(hash));
    assert.deepEqual(await l2.getBlockByHash(block!.hash), block);
    const receipts = await l2.getBlockReceipts(finalized.block);
    assert.ok(receipts?.some((r) => normalizeHex(r.txHash) === hash));
    const batch = await l1.getBatchOfBlock(finalized.block);
    assert.ok(batch !== null && batch.finalizedAt !== null, `batch ${JSON.stringify(batch)}`);
    assert.ok((await l2.feeHistory(4)).blocks.length > 0);
    assert.ok((await l2.minFee()) > 0n);
    assert.ok((await l2.blockNumber()) >= finalized.block);
  });

  test("a deposit on the L1, then a withdrawal to finalized and released", async () => {
    const key = Keypair.dev(3);
    const wallet = new Wallet({ l2, l1, key });
    const before = BigInt((await l2.getAccount(3))!.balances.MANA!);
    const l1Hash = await wallet.deposit({ token: "MANA", amount: 5000n });
    const receipt = await l1.waitForTransaction(l1Hash);
    assert.equal(receipt.status, "success", JSON.stringify(receipt));
    assert.ok((await l1.getRawTransaction(l1Hash)) !== null);
    await until("the deposit on the L2", async () => {
      const now = BigInt((await l2.getAccount(3))!.balances.MANA!);
      return now - before === 5000n ? true : undefined;
    });
    const status = await l1.rollupStatus();
    assert.ok(status.depositsQueued >= 1);
    assert.ok((await l1.getDeposits(0, 16)).some((d) => normalizeHex(d.l1TxHash) === l1Hash));

    const recipient = Keypair.generate();
    const hash = await wallet.withdraw({ to: recipient.publicKey, token: "MANA", amount: 3000n });
    await l2.waitForStatus(hash, "finalized", { timeoutMs: FINAL_MS });
    const released = await until("the withdrawal released", async () => {
      const w = await l2.getWithdrawal(hash);
      return w?.state === "released" ? w : undefined;
    });
    assert.equal(released.amount, "3000");
    assert.equal(released.token, "MANA");
    const account = await l1.getAccount(recipient.publicKey);
    assert.equal(account.balances.MANA, "3000", JSON.stringify(account));
    const ledger = await l1.ledgerGetAccount(recipient.publicKey, "MANA");
    assert.equal(ledger.balance, "3000");
    assert.equal(await l2.getWithdrawal(l1Hash), null);
    if (transferHash !== undefined) await refused("INVALID_PARAMS", l2.getWithdrawal(transferHash));
  });

  test("the AMM: deployed, liquidity added, quoted and swapped through bindings", { skip: AMM_WASM === undefined ? "GHOSTPLANE_AMM_WASM unset" : false }, async () => {
    const owner = new Wallet({ l2, key: Keypair.dev(4) });
    const trader = new Wallet({ l2, key: Keypair.dev(5) });
    const code = readFileSync(AMM_WASM!);
    const deployed = await owner.deployContract({ code, init: encodeInit(AMM_INTERFACE, [1, 2]) });
    const done = await l2.waitForStatus(deployed.hash, "executed");
    assert.equal(done.success, true, JSON.stringify(await l2.getTransactionReceipt(deployed.hash)));
    amm = deployed.address;
    const pool = bindContract(AMM_INTERFACE, deployed.address, { l2, wallet: owner });
    for (const token of ["SPIRIT", "MANA"] as const) {
      const hash = await pool.add({ token, value: 1_000_000n });
      assert.equal((await l2.waitForStatus(hash, "executed")).success, true);
      ammSettled = hash;
    }
    const asTrader = bindContract(AMM_INTERFACE, deployed.address, { l2, wallet: trader });
    const quote: bigint = await asTrader.quote(1, 1_000n);
    assert.equal(quote, 996n); // 1e6·1000·997 / (1e6·1000 + 1000·997)
    const logs: unknown[] = [];
    const sub = l2.subscribeLogs({ contract: deployed.address, topics: [eventTopic(AMM_INTERFACE, "swap")] }, (log) => logs.push(log));
    await sub.ready;
    const manaBefore = BigInt((await l2.getAccount(5))!.balances.MANA!);
    const swap = await asTrader.swap(quote, { token: "SPIRIT", value: 1_000n });
    assert.equal((await l2.waitForStatus(swap, "executed")).success, true);
    const receipt = (await l2.getTransactionReceipt(swap))!;
    assert.equal(decodeReturn(AMM_INTERFACE, "swap", receipt.returnData), 996n);
    const event = decodeEvent(AMM_INTERFACE, receipt.events[0]!);
    assert.deepEqual(event, { name: "swap", data: { tokenIn: 1, amountIn: 1000n, out: 996n } });
    assert.equal(BigInt((await l2.getAccount(5))!.balances.MANA!) - manaBefore, 996n);
    const page = await l2.getLogs({ contract: deployed.address });
    assert.equal(page.logs.length, 1);
    await until("the swap log by subscription", async () => (logs.length > 0 ? true : undefined), 10_000);
    sub();
    // A read call that reverts carries the contract's message.
    await assert.rejects(asTrader.quote(7, 1n), /bad token/);
    assert.equal(await l2.getStorage(deployed.address, "0x" + "09".repeat(32)), null);
  });

  test("a token contract: transfer event decoded", { skip: TOKEN_WASM === undefined ? "GHOSTPLANE_TOKEN_WASM unset" : false }, async () => {
    const owner = new Wallet({ l2, key: Keypair.dev(8) });
    const deployed = await owner.deployContract({ code: readFileSync(TOKEN_WASM!), init: encodeInit(TOKEN_INTERFACE, [1000n]) });
    assert.equal((await l2.waitForStatus(deployed.hash, "executed")).success, true);
    const token = bindContract(TOKEN_INTERFACE, deployed.address, { l2, wallet: owner });
    assert.equal(await token.totalSupply(), 1000n);
    const hash = await token.transfer(9, 250n);
    assert.equal((await l2.waitForStatus(hash, "executed")).success, true);
    assert.equal(await token.balanceOf(9), 250n);
    const events = (await l2.getTransactionReceipt(hash))!.events.map((e) => decodeEvent(TOKEN_INTERFACE, e));
    assert.deepEqual(events, [{ name: "transfer", data: { from: 8, to: 9, amount: 250n } }]);
  });

  test("l2_getProof answers verify against the L1's finalized root; tampered ones do not", async () => {
    const anchored = async (target: number | Hex, keys?: Hex[]) =>
      until("an answer at the L1's finalized batch", async () => {
        const status = await l1.rollupStatus();
        try {
          const proof = await l2.getProof(target, keys);
          return proof.batch === status.finalizedBatch ? { proof, status } : undefined;
        } catch (e) {
          // UNAVAILABLE: settlement not at the L1's root yet; INVALID_PARAMS: a contract deployed after it.
          if (isRpcError(e, "UNAVAILABLE") || isRpcError(e, "INVALID_PARAMS")) return undefined;
          throw e;
        }
      });
    const { proof, status } = await anchored(1);
    assert.equal(verifyProof(proof, status.finalizedRoot), normalizeHex(status.finalizedRoot));
    const bad = structuredClone(proof);
    bad.leaf!.balances[1] = String(BigInt(bad.leaf!.balances[1]!) + 1n);
    assert.throws(() => verifyProof(bad), ProofError);
    const byKey = await l2.getProof(Keypair.dev(2).publicKeyHex);
    verifyProof(byKey);
    const nobody = await l2.getProof(70000);
    assert.equal(nobody.leaf, null);
    verifyProof(nobody);
    const batch = await l1.getBatch(byKey.batch);
    assert.equal(normalizeHex(batch!.newRoot), normalizeHex(byKey.root));
    if (amm !== undefined && ammSettled !== undefined) {
      await l2.waitForStatus(ammSettled, "finalized", { timeoutMs: FINAL_MS });
      const config = toHex(Uint8Array.of(1, ...new Uint8Array(31)));
      const absent = toHex(new Uint8Array(32).fill(9));
      const { proof: contract } = await anchored(amm, [config, absent]);
      verifyProof(contract);
      assert.ok(contract.contract?.storage[0]?.value !== null && contract.contract?.storage[1]?.value === null, JSON.stringify(contract.contract));
      const tampered = structuredClone(contract);
      tampered.contract!.storage[0]!.value = "00";
      assert.throws(() => verifyProof(tampered), /does not reach the storage root/);
      const forged = structuredClone(contract);
      forged.contract!.storage[1]!.value = "";
      assert.throws(() => verifyProof(forged), ProofError);
    }
  });

  test("typed errors from the L2 and the L1", async () => {
    const key = Keypair.dev(6);
    const transfer = (over: Partial<Extract<Transaction, { kind: "transfer" }>> = {}): Transaction => ({
      kind: "transfer", from: 6, to: { account: 7 }, token: "GCC", amount: 10n, fee: 10_000n, nonce: 0n, ...over,
    });
    const nonce = BigInt((await l2.getAccount(6))!.pendingNonce);
    // A transaction one nonce ahead waits for the one before it, so sending it again
    // is certainly a duplicate of a pending one (not of an executed one).
    const parked = signTransaction(transfer({ nonce: nonce + 1n, amount: 12n }), key, chainId);
    await l2.sendTransaction(parked);
    await refused("ALREADY_KNOWN", l2.sendTransaction(parked));
    const good = signTransaction(transfer({ nonce }), key, chainId);
    await l2.sendTransactionWs(good);
    await l2.waitForStatus(parked.hash, "executed");
    const low = await refused("NONCE_TOO_LOW", l2.sendTransaction(signTransaction(transfer({ nonce, amount: 11n }), key, chainId)));
    assert.ok(low instanceof NonceTooLowError);
    assert.equal((low.data as { expectedNonce: number }).expectedNonce, Number(nonce) + 2);
    const next = nonce + 2n;
    const badSig = signTransaction(transfer({ nonce: next }), key, chainId);
    badSig.bytes[badSig.bytes.length - 1]! ^= 1;
    await refused("BAD_SIGNATURE", l2.sendTransaction(badSig.bytes));
    const wrong = await refused("WRONG_CHAIN", l2.sendTransaction(signTransaction(transfer({ nonce: next }), key, chainId + 1n)));
    assert.equal(BigInt((wrong.data as { expectedChainId: number }).expectedChainId), chainId);
    const fee = await refused("FEE_BELOW_MINIMUM", l2.sendTransaction(signTransaction(transfer({ nonce: next, fee: 1n }), key, chainId)));
    assert.ok(fee instanceof FeeBelowMinimumError && (fee.data as { minFee: unknown }).minFee !== undefined);
    await refused("MALFORMED", l2.sendTransaction("0x00"));
    await refused("INVALID", l2.sendTransaction(signTransaction(transfer({ nonce: next, amount: 0n }), key, chainId)));
    await refused("UNKNOWN_SENDER", l2.sendTransaction(signTransaction(transfer({ from: 900_000, nonce: 0n }), key, chainId)));
    await refused("SIGNER_MISMATCH", l2.sendTransaction(signTransaction(transfer({ nonce: next }), Keypair.dev(7), chainId)));
    await refused("NONCE_GAP", l2.sendTransaction(signTransaction(transfer({ nonce: next + 1_000_000n }), key, chainId)));
    await refused("TOO_LARGE", l2.sendTransaction(signTransaction({ kind: "deploy", from: 6, code: new Uint8Array(1 << 20), init: "0x", token: "GCC", value: 0n, fee: 1n, nonce: next }, key, chainId)));
    await refused("WOULD_BE_DROPPED", l2.estimateFee({ kind: "call", from: 900_000, contract: "0x" + "ab".repeat(32), input: "0x", fuelLimit: 1000n, token: "GCC", value: 0n, fee: 0n, nonce: 0n }));
    await refused("UNKNOWN_CONTRACT", l2.call({ contract: "0x" + "ab".repeat(32) }));
    await refused("UNKNOWN_CONTRACT", l2.getStorage("0x" + "ab".repeat(32), "0x" + "00".repeat(32)));
    if (amm !== undefined) {
      await refused("FUEL_TOO_HIGH", l2.call({ contract: amm, fuel: 10_000_001 }));
      await refused("INPUT_TOO_LARGE", l2.call({ contract: amm, input: new Uint8Array(16 * 1024 + 1) }));
    }
    await refused("INVALID_PARAMS", l2.getTransactionStatus("0x12"));
    // The same refusals over the WebSocket carry the same types.
    await refused("MALFORMED", l2.sendTransactionWs("0x00"));

    // The L1: signature, chain, nonce, a refused call.
    const l1Chain = await l1.chainId();
    const l1Nonce = BigInt((await l1.getAccount(key.publicKey)).nonce);
    const deposit = (over: object = {}) => ({
      chainId: l1Chain, from: key.publicKey, nonce: l1Nonce, call: { kind: "deposit" as const, recipient: key.publicKey, token: "GCC" as const, amount: 1n }, ...over,
    });
    const l1Bad = signL1Transaction(deposit(), key);
    l1Bad.bytes[l1Bad.bytes.length - 1]! ^= 1;
    await refused("BAD_SIGNATURE", l1.sendTransaction(l1Bad.bytes));
    await refused("WRONG_CHAIN", l1.sendTransaction(signL1Transaction(deposit({ chainId: l1Chain + 1n }), key)));
    await refused("CALL_REFUSED", l1.sendTransaction(signL1Transaction(deposit({ call: { kind: "deposit", recipient: key.publicKey, token: "GCC", amount: 0n } }), key)));
    if (l1Nonce > 0n) await refused("NONCE_TOO_LOW", l1.sendTransaction(signL1Transaction(deposit({ nonce: l1Nonce - 1n }), key)));
    await refused("MALFORMED", l1.sendTransaction("0x00"));
  });

  test("names and DIDs: an unregistered name, dev 0's DID, an access token", async () => {
    assert.equal(await resolveName(l1, "nobody-here-1234.ghost"), null);
    // A registered name with a record (the cargo test registers alice.ghost, an l2 record).
    const registered = process.env.GHOSTPLANE_NAME;
    if (registered !== undefined) {
      const name = await resolveName(l1, registered);
      assert.equal(name?.name, registered);
      assert.match(normalizeHex(name!.owner), /^0x[0-9a-f]{64}$/);
      assert.ok(name!.records.length > 0, "its l2 record");
    }
    assert.equal(await l1.namingReverse(Keypair.generate().publicKey), null);
    const dev0 = Keypair.dev(0);
    const did = didOfKey(dev0.publicKey, await l1.chainId());
    const resolution = await l1.resolveDid(did);
    assert.equal(resolution.didDocument?.id, did);
    const unknown = await l1.resolveDid("did:ghost:nonsense!");
    assert.equal(unknown.didDocument ?? null, null);
    assert.ok(unknown.didResolutionMetadata.error !== undefined);
    // An access token signed by dev 0's key-1: valid locally and for the node.
    const kid = resolution.didDocument!.authentication![0]!;
    const now = Math.floor(Date.now() / 1000);
    const enc = (v: object) => base64urlnopad.encode(utf8(JSON.stringify(v)));
    const input = `${enc({ alg: "EdDSA", typ: "JWT", kid })}.${enc({ iss: did, sub: did, aud: "svc", exp: now + 600, nbf: now - 5, iat: now - 5, jti: "sdk-ts-1", permissions: [] })}`;
    const jwt = `${input}.${base64urlnopad.encode(dev0.sign(utf8(input)))}`;
    const verified = await verifyAccessToken(jwt, l1);
    assert.equal(verified.claims.iss, did);
    const verdict = await l1.identityVerifyToken(jwt, { aud: "svc" });
    assert.equal(verdict.valid, true, JSON.stringify(verdict));
    const forged = `${input}.${base64urlnopad.encode(Keypair.dev(1).sign(utf8(input)))}`;
    await assert.rejects(verifyAccessToken(forged, l1), (e: unknown) => e instanceof TokenVerificationError && e.kind === "badSignature");
    assert.equal((await l1.identityVerifyToken(forged, { aud: "svc" })).error, "badSignature");
  });
});
