/**
 * Load: signed transfers per second from one Node process over one WebSocket.
 *
 *   GHOSTPLANE_L2_URL=http://127.0.0.1:9090 npm run bench -- [transfers=5000] [inFlight=512]
 *
 * Senders are dev keys 1..15 (each with its nonces from `l2_getAccount`), each
 * sending 1 GCC base unit to the next; every transfer is signed first (the sign
 * rate is reported apart), then submitted with `l2_sendTransaction` over one
 * WebSocket, `inFlight` at a time. Back-pressure refusals (BUSY, POOL_FULL,
 * SENDER_POOL_FULL, SETTLEMENT_BEHIND) are retried after the node's
 * `retryAfterMs`; anything else stops the run. The rate is of accepted
 * transfers (durable in the WAL); the run then waits for each sender's last
 * transfer to execute and reports that rate too.
 */
import { Keypair, L2Client, type SignedTx, isRpcError, signTransaction } from "../src/index.js";
import { WebSocket } from "../src/node.js";

const SENDERS = 15;
const RETRYABLE = ["BUSY", "POOL_FULL", "SENDER_POOL_FULL", "SETTLEMENT_BEHIND"] as const;
/** Most retries of one transfer before the run gives up. */
const RETRIES_MAX = 1_000;

async function main(): Promise<void> {
  const url = process.env.GHOSTPLANE_L2_URL ?? "http://127.0.0.1:9090";
  const total = Number(process.argv[2] ?? 5000);
  const inFlight = Number(process.argv[3] ?? 512);
  const l2 = new L2Client(url, { WebSocket, inFlightMax: inFlight });
  try {
    const chainId = await l2.chainId();
    const fee = await l2.minFee();
    const senders = await Promise.all(
      Array.from({ length: SENDERS }, async (_, i) => {
        const id = i + 1;
        const account = await l2.getAccount(id);
        if (account === null) throw new Error(`dev account ${id} does not exist`);
        return { id, key: Keypair.dev(id), nonce: BigInt(account.pendingNonce) };
      }),
    );

    // Sign everything first: round robin over the senders, so each one's nonces go out in order.
    const signStart = performance.now();
    const txs: SignedTx[] = [];
    for (let n = 0; n < total; n++) {
      const s = senders[n % SENDERS]!;
      const to = (s.id % SENDERS) + 1;
      txs.push(signTransaction({ kind: "transfer", from: s.id, to: { account: to }, token: "GCC", amount: 1n, fee, nonce: s.nonce++ }, s.key, chainId));
    }
    const signSeconds = (performance.now() - signStart) / 1000;

    let next = 0;
    let retries = 0;
    const start = performance.now();
    const worker = async () => {
      for (let i = next++; i < txs.length; i = next++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await l2.sendTransactionWs(txs[i]!);
            break;
          } catch (e) {
            if (!RETRYABLE.some((name) => isRpcError(e, name)) || attempt >= RETRIES_MAX) throw e;
            retries++;
            await new Promise((r) => setTimeout(r, isRpcError(e) ? (e.retryAfterMs ?? 20) : 20));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `ts-client: ${total} transfers in ${seconds.toFixed(2)} s = ${(total / seconds).toFixed(0)} tx/s over WebSocket ` +
        `(sign ${(total / signSeconds).toFixed(0)}/s; ${inFlight} in flight, ${retries} back-pressure retries)`,
    );

    const lasts = txs.slice(-SENDERS);
    await Promise.all(lasts.map((tx) => l2.waitForStatus(tx.hash, "executed", { timeoutMs: 300_000 })));
    const executedSeconds = (performance.now() - start) / 1000;
    console.log(`ts-client: all ${total} executed after ${executedSeconds.toFixed(2)} s = ${(total / executedSeconds).toFixed(0)} tx/s end to end`);
  } finally {
    l2.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
