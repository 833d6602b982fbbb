/**
 * The L2 block page (header, its transactions' receipts, its batch) and the batch
 * page (its blocks, chunks, root, the L1 blocks and transactions that committed
 * and proved it, each proof's size and, when the L1 node measured it, how long
 * that node took to verify it).
 */

import { batchTransactions, l1, l2 } from "../api";
import {
  type Child,
  amount,
  badge,
  bytes,
  h,
  hashLink,
  heading,
  href,
  kv,
  lazySection,
  link,
  mono,
  notFound,
  section,
  table,
  time,
  with0x,
} from "../render";
import { isHash32 } from "./common";
import { batchSummary, settlementView } from "./tx";

/** Receipts listed on a block page (a block may hold thousands). */
const RECEIPTS_SHOWN_MAX = 500;

/** `#/block/<number or hash>` */
export async function blockPage([id = ""]: string[]): Promise<Child> {
  const block = /^\d+$/.test(id) ? await l2.getBlock(Number(id)) : isHash32(id) ? await l2.getBlockByHash(id) : null;
  if (block === null) return notFound(`No L2 block ${id}.`);
  const n = block.number;
  return [
    heading("L2 block", String(n)),
    h("p", { class: "nav" }, n > 0 ? link(href.block(n - 1), "← previous") : null, " ", link(href.block(n + 1), "next →")),
    kv([
      ["Hash", mono(block.hash)],
      ["Parent", n > 0 ? hashLink(href.block(block.parentHash), block.parentHash, true) : mono(block.parentHash)],
      ["Time", time(block.timestampMs)],
      ["Transactions", String(block.txCount)],
      ["Fee account", link(href.account(block.feeAccount), String(block.feeAccount))],
      ["Transactions hash", mono(block.transactionsHash)],
      ["Execution digest", mono(block.executionDigest)],
    ]),
    lazySection("Batch", async () => {
      const batch = await l1.getBatchOfBlock(n);
      return batch === null ? h("p", { class: "muted" }, "Not in a committed batch yet.") : batchSummary(batch);
    }),
    lazySection(`Transactions (${block.txCount})`, async () => {
      const receipts = (await l2.getBlockReceipts(n)) ?? [];
      const rows = receipts.slice(0, RECEIPTS_SHOWN_MAX).map((r) => [
        r.index,
        hashLink(href.tx(r.txHash), r.txHash),
        badge(r.status),
        amount(r.feePaid),
        amount(r.gasUsed),
        r.events.length,
      ]);
      return [
        table(["#", "transaction", "outcome", "fee", "gas", "events"], rows, "No transactions."),
        block.txCount > rows.length ? h("p", { class: "muted" }, `The first ${rows.length} of ${block.txCount} shown.`) : null,
      ];
    }),
  ];
}

/** `#/batch/<number>` */
export async function batchPage([id = ""]: string[]): Promise<Child> {
  const batch = /^\d+$/.test(id) ? await l1.getBatch(Number(id)) : null;
  if (batch === null) return notFound(`No committed batch ${id}.`);
  const txs = await batchTransactions(batch);
  const verify = batch.verify ?? [];
  const micros = new Map(verify.map((v) => [v.chunk, v.micros]));
  const chunks: Child[][] = [];
  for (const tx of txs.proofs) {
    const p = tx.decoded!.call.proofs!;
    p.proofSizes.forEach((size, i) => {
      const chunk = p.firstChunk + i;
      const took = micros.get(chunk);
      chunks.push([
        chunk,
        `${amount(size)} B`,
        took === undefined ? h("span", { class: "muted" }, "—") : h("span", { class: "num", "data-verify-chunk": chunk }, ms(took)),
        mono(p.chunkRoots[i] ?? ""),
        hashLink(href.l1Tx(tx.hash), tx.hash),
      ]);
    });
  }
  const commit = txs.commit?.decoded?.call.commit;
  const settleMs = txs.committedMs !== undefined && txs.finalizedMs !== undefined ? txs.finalizedMs - txs.committedMs : undefined;
  return [
    heading("Batch", String(batch.number)),
    h("p", { class: "nav" }, batch.number > 1 ? link(href.batch(batch.number - 1), "← previous") : null, " ", link(href.batch(batch.number + 1), "next →")),
    kv([
      ["State", badge(batch.finalizedAt === null ? "committed" : "finalized")],
      ["L2 blocks", [link(href.block(batch.firstBlock), String(batch.firstBlock)), " – ", link(href.block(batch.lastBlock), String(batch.lastBlock))]],
      ["Chunks (segments)", String(batch.chunks)],
      ["New root", mono(with0x(batch.newRoot))],
      ["Pubdata", commit ? `${bytes(commit.pubdataBytes)}, hash ${batch.pubdataHash}` : mono(batch.pubdataHash)],
      ["Fee account", commit ? link(href.account(commit.feeAccount), String(commit.feeAccount)) : null],
      ["Withdrawals", String(batch.withdrawals)],
      ["Committed in", [link(href.l1Block(batch.committedAt), `L1 block ${batch.committedAt}`), txs.committedMs ? [" at ", time(txs.committedMs)] : null]],
      [
        "Finalized in",
        batch.finalizedAt === null
          ? h("span", { class: "muted" }, "not yet")
          : [link(href.l1Block(batch.finalizedAt), `L1 block ${batch.finalizedAt}`), txs.finalizedMs ? [" at ", time(txs.finalizedMs)] : null],
      ],
      ["Commit to finality", settleMs === undefined ? null : `${amount(settleMs)} ms (between the two L1 blocks' seal times)`],
      ["Proof verify time", verifySummary(verify.map((v) => v.micros))],
    ]),
    section("Proofs by chunk", table(["chunk", "proof size", "verified in", "root after", "L1 transaction"], chunks, batch.finalizedAt === null ? "No proof on the L1 yet." : "No proof transaction found.")),
    section("L1 transactions", settlementView(txs.commit, txs.proofs, txs.truncated)),
  ];
}

/** Microseconds as milliseconds, one decimal. */
function ms(micros: number): string {
  return `${amount((micros / 1000).toFixed(1))} ms`;
}

/**
 * The batch's proof verification times (`rollup_getBatch`'s `verify`): what the
 * L1 node this explorer reads measured when it applied each chunk's proof. They
 * are that node's wall clock, not consensus, and absent for proofs it applied
 * before it last started.
 */
function verifySummary(micros: number[]): Child {
  if (micros.length === 0) return h("span", { class: "muted", id: "verify-time" }, "not measured by this node (an L1 node times the proofs it applies, since it started)");
  const sorted = [...micros].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const total = sorted.reduce((a, b) => a + b, 0);
  const proofs = sorted.length === 1 ? "1 chunk proof" : `${sorted.length} chunk proofs`;
  return h(
    "span",
    { id: "verify-time" },
    `${ms(total)} total, median ${ms(median)} over ${proofs}, `,
    h("span", { class: "muted" }, "as measured by the L1 node this page reads (its own clock, not consensus)"),
  );
}
