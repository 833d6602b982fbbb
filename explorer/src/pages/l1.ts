/**
 * The L1 pages: a block (header; its transactions with sender, module and call,
 * status) and a transaction (receipt, and what its borsh encoding says: for the
 * rollup's commits and proofs, the batch, blocks, pubdata and proof sizes).
 */

import { type L1Tx, l1, l1Transaction } from "../api";
import type { L1CallInfo } from "../l1decode";
import { type Child, amount, badge, bytes, h, hashLink, heading, href, kv, link, mono, notFound, section, short, table, time } from "../render";
import { isHash32 } from "./common";

/** Transactions read and listed on a block page (each is fetched and decoded). */
const TXS_SHOWN_MAX = 200;

/** `#/l1/block/<height>` */
export async function l1BlockPage([id = ""]: string[]): Promise<Child> {
  const block = /^\d+$/.test(id) ? await l1.getBlock(Number(id)) : null;
  if (block === null) return notFound(`No L1 block ${id}.`);
  const n = block.number;
  const hashes = block.transactions.slice(0, TXS_SHOWN_MAX);
  const txs = await Promise.all(hashes.map(l1Transaction));
  return [
    heading("L1 block", String(n)),
    h("p", { class: "nav" }, n > 0 ? link(href.l1Block(n - 1), "← previous") : null, " ", link(href.l1Block(n + 1), "next →")),
    kv([
      ["Hash", mono(block.hash)],
      ["Parent", mono(block.parentHash)],
      ["Time", time(block.timestampMs)],
      ["Transactions", String(block.txCount)],
      ["Transactions hash", mono(block.transactionsHash)],
      ["State digest", mono(block.stateDigest)],
    ]),
    section(
      `Transactions (${block.txCount})`,
      table(
        ["transaction", "sender", "call", "status"],
        txs.map((tx, i) => {
          const hash = hashes[i]!;
          return [
            hashLink(href.l1Tx(hash), hash),
            tx?.decoded ? h("span", { class: "mono", title: tx.decoded.from }, short(tx.decoded.from, 4)) : "?",
            tx?.decoded ? callText(tx.decoded.call) : "?",
            tx?.view.receipt ? badge(tx.view.receipt.status) : "?",
          ];
        }),
        "No transactions.",
      ),
      block.txCount > hashes.length ? h("p", { class: "muted" }, `The first ${hashes.length} of ${block.txCount} shown.`) : null,
    ),
  ];
}

/** `#/l1/tx/<hash>` */
export async function l1TxPage([hash = ""]: string[]): Promise<Child> {
  const tx = isHash32(hash) ? await l1Transaction(hash) : null;
  if (tx === null) return notFound(`L1 transaction ${hash} not found.`);
  return [heading("L1 transaction", mono(tx.hash)), receiptView(tx), callView(tx)];
}

function receiptView(tx: L1Tx): Child {
  const r = tx.view.receipt;
  if (r === null) return kv([["Status", badge(tx.view.status)]]);
  return kv([
    ["Status", badge(r.status)],
    ["Error", r.error],
    ["Refused by", r.module === null ? null : `${r.module} module, code ${r.code}`],
    ["Block", [link(href.l1Block(r.block), String(r.block)), ` position ${r.index}`]],
    ["Deposit index", r.depositIndex === null ? null : String(r.depositIndex)],
  ]);
}

function callView(tx: L1Tx): Child {
  const d = tx.decoded;
  if (d === undefined) return h("p", { class: "muted" }, `Its encoding could not be read${tx.decodeError ? `: ${tx.decodeError}` : "."}`);
  const { commit, proofs, payment } = d.call;
  return section(
    "Call",
    kv([
      ["Sender", mono(d.from)],
      ["Nonce", String(d.nonce)],
      ["Module.call", callText(d.call)],
      ["Size", bytes(d.size)],
      ["Batch", commit || proofs ? link(href.batch((commit ?? proofs)!.batch), String((commit ?? proofs)!.batch)) : null],
      ["L2 blocks", commit ? [link(href.block(commit.firstBlock), String(commit.firstBlock)), " – ", link(href.block(commit.lastBlock), String(commit.lastBlock))] : null],
      ["Pubdata", commit ? bytes(commit.pubdataBytes) : null],
      ["Chunks", commit ? String(commit.chunkCount) : null],
      ["New root", commit ? mono(commit.newRoot) : null],
      ["Fee account", commit ? link(href.account(commit.feeAccount), String(commit.feeAccount)) : null],
      ["Recipient", payment ? mono(payment.to) : null],
      ["Amount", payment ? `${amount(payment.amount)} ${payment.token}` : null],
    ]),
    proofs
      ? table(
          ["chunk", "proof size", "root after"],
          proofs.proofSizes.map((size, i) => [proofs.firstChunk + i, `${amount(size)} B`, mono(proofs.chunkRoots[i] ?? "")]),
        )
      : null,
  );
}

/** `module.Kind`, with the batch for the rollup's commit and prove calls. */
function callText(call: L1CallInfo): string {
  const batch = call.commit?.batch ?? call.proofs?.batch;
  const proofs = call.proofs ? `, ${call.proofs.proofSizes.length} proofs` : "";
  return `${call.module}.${call.kind}${batch === undefined ? "" : ` (batch ${batch}${proofs})`}`;
}
