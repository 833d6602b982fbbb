/**
 * The L2 transaction page: its lifecycle (accepted → executed → committed →
 * finalized) updated live over `l2_subscribeTransactionStatus`, its receipt, its
 * block, its batch and the L1 transactions that committed and proved that batch.
 */

import type { BatchView, ReceiptView, TransactionView, TxStatus } from "@ghostplane/client";
import { type L1Tx, batchTransactions, l1, l2 } from "../api";
import type { Scope } from "../router";
import {
  type Child,
  badge,
  bytes,
  errorBox,
  fill,
  h,
  hashLink,
  heading,
  href,
  kv,
  link,
  mono,
  notFound,
  section,
  short,
  table,
  with0x,
  amount,
} from "../render";
import { eventRows, isHash32 } from "./common";

const STEPS = ["accepted", "executed", "committed", "finalized"] as const;
const RANK: Record<string, number> = { received: 0, accepted: 1, executed: 2, committed: 3, finalized: 4 };
/** How often the page asks for the status when the WebSocket is not there. */
const POLL_MS = 1_000;

/** `#/tx/<hash>` */
export async function txPage([hash = ""]: string[], scope: Scope): Promise<Child> {
  if (!isHash32(hash)) return notFound(`"${hash}" is not a transaction hash (64 hex digits).`);
  hash = with0x(hash).toLowerCase();
  let status = await l2.getTransactionStatus(hash);
  if (status.status === "unknown") {
    // The status board is bounded: an old transaction is known by its receipt.
    const receipt = await l2.getTransactionReceipt(hash);
    if (receipt === null) return unknownTx(hash);
    status = await statusFromReceipt(receipt);
  }

  const steps = h("ol", { class: "steps" });
  const overview = h("div");
  const fieldsBody = h("div");
  const receiptBody = h("div");
  const batchBody = h("div");
  const l1Body = h("div");
  let shown: TxStatus | undefined;
  let loads = 0;

  const update = (next: TxStatus) => {
    if (!scope.live) return;
    // Statuses only move forward; a late notification of an older one is ignored.
    if (shown !== undefined && (RANK[next.status] ?? 9) <= (RANK[shown.status] ?? 9)) return;
    shown = next;
    fill(steps, lifecycle(next));
    const load = ++loads;
    void fillDetails(next, () => scope.live && load === loads, { overview, fieldsBody, receiptBody, batchBody, l1Body }, hash);
  };
  update(status);

  if (status.status !== "finalized" && status.status !== "rejected" && status.status !== "dropped") {
    follow(hash, scope, update);
  }

  return [
    heading("Transaction", mono(hash)),
    section("Lifecycle", steps),
    overview,
    section("Transaction", fieldsBody),
    section("Receipt", receiptBody),
    section("Batch", batchBody),
    section("On the L1", l1Body),
  ];
}

/** Follows the status over the WebSocket, falling back to polling if it fails. */
function follow(hash: string, scope: Scope, update: (s: TxStatus) => void): void {
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    scope.every(POLL_MS, () => {
      l2.getTransactionStatus(hash).then(update, () => undefined);
    });
  };
  const unsubscribe = l2.subscribeTransactionStatus(hash, update, { onError: poll });
  scope.onDispose(unsubscribe);
  // A change between the first read and the subscription would otherwise be missed.
  unsubscribe.ready.then(
    () => l2.getTransactionStatus(hash).then(update),
    poll,
  );
}

/** The lifecycle steps, each done, current or still ahead. */
function lifecycle(status: TxStatus): Child {
  if (status.status === "rejected" || status.status === "dropped") {
    return h("li", { class: "step failed" }, `${status.status}: ${status.reason}`);
  }
  const rank = RANK[status.status] ?? 0;
  return STEPS.map((step) => {
    const r = RANK[step]!;
    const state = r < rank ? "done" : r === rank ? "current" : "ahead";
    return h("li", { class: `step ${state}`, "data-step": step }, step);
  });
}

interface Bodies {
  overview: HTMLElement;
  fieldsBody: HTMLElement;
  receiptBody: HTMLElement;
  batchBody: HTMLElement;
  l1Body: HTMLElement;
}

/** (Re)loads what the status makes available; `current()` says whether it still should write. */
async function fillDetails(status: TxStatus, current: () => boolean, b: Bodies, hash: string): Promise<void> {
  const pending = (el: HTMLElement, text: string) => fill(el, h("p", { class: "muted" }, text));
  const executed = "block" in status ? status : undefined;
  fill(
    b.overview,
    kv([
      ["Status", h("span", { id: "tx-status" }, badge(status.status))],
      ["Outcome", executed && badge(executed.success ? "success" : "failed")],
      ["Reason", "reason" in status ? status.reason : null],
      ["Block", executed && link(href.block(executed.block), String(executed.block))],
    ]),
  );
  if (executed === undefined) {
    pending(b.fieldsBody, "Shown once it is executed (the node keeps the transactions it includes).");
    pending(b.receiptBody, "Not executed yet.");
    pending(b.batchBody, "Not in a block yet.");
    pending(b.l1Body, "Nothing on the L1 yet.");
    return;
  }
  try {
    const [included, receipt, batch] = await Promise.all([
      l2.getTransaction(hash),
      l2.getTransactionReceipt(hash),
      // Without an L1 (a standalone L2 node) the L2 part of the page still shows.
      l1.getBatchOfBlock(executed.block).catch((e: unknown) => e as Error),
    ]);
    if (!current()) return;
    fill(b.fieldsBody, included === null ? h("p", { class: "muted" }, "Not kept by this node.") : fieldsView(included));
    fill(b.receiptBody, receipt === null ? h("p", { class: "muted" }, "No receipt.") : receiptView(receipt));
    if (batch instanceof Error) {
      fill(b.batchBody, errorBox(batch));
      pending(b.l1Body, "The L1 did not answer.");
      return;
    }
    if (batch === null) {
      pending(b.batchBody, "Its block is not in a committed batch yet.");
      pending(b.l1Body, "Nothing on the L1 yet.");
      return;
    }
    fill(b.batchBody, batchSummary(batch));
    pending(b.l1Body, "finding the commit and proof transactions…");
    const txs = await batchTransactions(batch);
    if (!current()) return;
    fill(b.l1Body, settlementView(txs.commit, txs.proofs, txs.truncated));
  } catch (e) {
    if (current()) fill(b.receiptBody, errorBox(e));
  }
}

/** What the transaction asked for: sender, recipient or contract, amounts, fee offered, nonce, signer. */
function fieldsView(t: TransactionView): Child {
  const f = t.tx;
  const account = (id: number) => link(href.account(id), `account ${id}`);
  const rows: [string, Child][] = [
    ["Kind", f.kind],
    ["From", account(f.from)],
  ];
  switch (f.kind) {
    case "transfer":
      rows.push(
        ["To", "account" in f.to ? account(f.to.account) : [link(href.account(f.to.newAccount), short(f.to.newAccount)), " (a new account)"]],
        ["Amount", `${amount(f.amount)} ${f.token}`],
      );
      break;
    case "withdraw":
      rows.push(["To (L1 address)", mono(with0x(f.to))], ["Amount", `${amount(f.amount)} ${f.token}`]);
      break;
    case "deploy":
      rows.push(
        ["Contract", link(href.contract(f.contract), short(f.contract))],
        ["Code", [bytes(f.codeBytes), ", hash ", mono(f.codeHash)]],
        ["Init input", f.init === "0x" ? "none" : mono(f.init)],
        ["Value", `${amount(f.value)} ${f.token}`],
      );
      break;
    case "call":
      rows.push(
        ["Contract", link(href.contract(f.contract), short(f.contract))],
        ["Input", f.input === "0x" ? "none" : mono(f.input)],
        ["Fuel limit", amount(f.fuelLimit)],
        ["Value", `${amount(f.value)} ${f.token}`],
      );
      break;
  }
  rows.push(
    [f.kind === "deploy" || f.kind === "call" ? "Most fee" : "Fee offered", `${amount(f.fee)} GCC`],
    ["Nonce", f.nonce],
    ["Signer", mono(with0x(t.signer))],
    ["Encoding", `${bytes((t.raw.length - 2) / 2)} signed, for chain ${t.chainId}`],
  );
  return h("div", { id: "tx-fields" }, kv(rows));
}

/** Fee, gas, outcome, return data and events of a receipt. */
export function receiptView(r: ReceiptView): Child {
  return [
    kv([
      ["Outcome", badge(r.status)],
      ["Error", r.error],
      ["Block", [link(href.block(r.block), String(r.block)), ` position ${r.index}`]],
      ["Fee paid", `${amount(r.feePaid)} GCC`],
      ["Gas used", amount(r.gasUsed)],
      ["Return data", r.returnData === "" ? h("span", { class: "muted" }, "none") : mono(with0x(r.returnData))],
      ["Revert data", r.revertData === undefined ? null : mono(with0x(r.revertData))],
    ]),
    h("h3", null, `Events (${r.events.length})`),
    table(["contract", "topic", "data"], eventRows(r.events), "No events."),
  ];
}

/** A batch's place on the L1, in brief. */
export function batchSummary(batch: BatchView): Child {
  return kv([
    ["Batch", link(href.batch(batch.number), String(batch.number))],
    ["L2 blocks", `${batch.firstBlock} – ${batch.lastBlock}`],
    ["Committed in", link(href.l1Block(batch.committedAt), `L1 block ${batch.committedAt}`)],
    [
      "Finalized in",
      batch.finalizedAt === null ? h("span", { class: "muted" }, "not yet (proofs pending)") : link(href.l1Block(batch.finalizedAt), `L1 block ${batch.finalizedAt}`),
    ],
  ]);
}

/** The commit and proof transactions of a batch, with what they carry. */
export function settlementView(commit: L1Tx | undefined, proofs: L1Tx[], truncated: boolean): Child {
  const rows: Child[][] = [];
  const seen = new Set<string>();
  for (const tx of [...(commit ? [commit] : []), ...proofs]) {
    if (seen.has(tx.hash)) continue;
    seen.add(tx.hash);
    const call = tx.decoded!.call;
    const sizes = call.proofs?.proofSizes ?? [];
    const what = call.commit
      ? `blocks ${call.commit.firstBlock}–${call.commit.lastBlock}, ${bytes(call.commit.pubdataBytes)} pubdata, ${call.commit.chunkCount} chunks`
      : "";
    const proofText = sizes.length
      ? `chunks ${call.proofs!.firstChunk}–${call.proofs!.firstChunk + sizes.length - 1}: ${sizes.map(bytes).join(", ")}`
      : "";
    rows.push([
      hashLink(href.l1Tx(tx.hash), tx.hash),
      call.kind,
      link(href.l1Block(tx.view.receipt!.block), String(tx.view.receipt!.block)),
      [what, what && proofText ? "; " : "", proofText ? `proofs ${proofText}` : ""],
    ]);
  }
  return [
    table(["L1 transaction", "call", "L1 block", "carries"], rows, "No commit or proof transaction found."),
    truncated ? h("p", { class: "muted" }, "Only the first L1 blocks after the commit were searched.") : null,
  ];
}

/** A hash the L2 does not know: say so, and point to the L1 if it knows it. */
async function unknownTx(hash: string): Promise<Child> {
  const onL1 = await l1.getTransaction(hash).catch(() => ({ status: "unknown" }));
  return [
    notFound(`Transaction ${hash} not found on the L2.`),
    onL1.status !== "unknown" ? h("p", null, "The L1 knows it: ", link(href.l1Tx(hash), "L1 transaction")) : null,
  ];
}

/** The status of an executed transaction the status board forgot, from the rollup's marks. */
async function statusFromReceipt(receipt: ReceiptView): Promise<TxStatus> {
  const rollup = await l1.rollupStatus().catch(() => undefined);
  if (rollup === undefined) return { status: "executed", block: receipt.block, success: receipt.status === "success" };
  const status =
    receipt.block <= rollup.finalizedL2Block ? "finalized" : receipt.block <= rollup.committedL2Block ? "committed" : "executed";
  return { status, block: receipt.block, success: receipt.status === "success" };
}
