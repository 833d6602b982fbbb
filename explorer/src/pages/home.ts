/**
 * The home page: the L2 head, the latest blocks and transactions (live, over
 * `l2_subscribeNewBlocks`), the L1 head and the rollup's settlement marks.
 */

import type { BlockView, RollupView } from "@ghostplane/client";
import { l1, l1Url, l2 } from "../api";
import type { Scope } from "../router";
import { type Child, ago, fill, h, hashLink, heading, href, kv, link, mono, section, short, table, time } from "../render";

/** Blocks and transactions listed. */
const LATEST_MAX = 10;
/** How often the L1 figures are read again. */
const L1_REFRESH_MS = 2_000;

/** The L1's head and the rollup's marks, or `undefined` when the L1 does not answer
 * (a standalone L2 node has none): the L2 part of the page works without it. */
async function readL1(): Promise<[number, RollupView] | undefined> {
  try {
    return await Promise.all([l1.blockNumber(), l1.rollupStatus()]);
  } catch {
    return undefined;
  }
}

/** `#/` */
export async function homePage(_args: string[], scope: Scope): Promise<Child> {
  const head = await l2.blockNumber();
  const numbers = Array.from({ length: Math.min(LATEST_MAX, head + 1) }, (_, i) => head - i);
  const [blocks, l1State] = await Promise.all([Promise.all(numbers.map((n) => l2.getBlock(n))), readL1()]);
  let latest = blocks.filter((b): b is BlockView => b !== null);
  let l1Height = l1State?.[0];
  let marks = l1State?.[1];

  const stats = h("div", { class: "stats" });
  const blocksBody = h("div");
  const txsBody = h("div");
  const live = h("p", { class: "muted small" }, "Updating live.");
  const draw = () => {
    fill(stats, statsView(latest[0]?.number ?? head, l1Height, marks));
    fill(blocksBody, blocksTable(latest));
    fill(txsBody, txsTable(latest, marks));
  };
  draw();

  const unsubscribe = l2.subscribeNewBlocks(
    (block) => {
      if (latest.some((b) => b.number === block.number)) return;
      latest = [block, ...latest].sort((a, b) => b.number - a.number).slice(0, LATEST_MAX);
      draw();
    },
    { onError: () => fill(live, "Live updates stopped (the WebSocket closed): reload to resume.") },
  );
  scope.onDispose(unsubscribe);
  scope.every(L1_REFRESH_MS, () => {
    void readL1().then((state) => {
      l1Height = state?.[0];
      marks = state?.[1];
      draw();
    });
  });

  return [
    heading("Ghostplane L2"),
    stats,
    live,
    h("div", { class: "columns" }, section("Latest blocks", blocksBody), section("Latest transactions", txsBody)),
  ];
}

/** The head figures: L2 head, L1 head, committed and finalized batch, finalized root. */
function statsView(l2Head: number, l1Head: number | undefined, rollup: RollupView | undefined): Child {
  const l2Row: [string, Child] = ["L2 head", link(href.block(l2Head), h("span", { id: "l2-head" }, String(l2Head)))];
  if (l1Head === undefined || rollup === undefined) {
    return kv([l2Row, ["L1", h("span", { class: "muted", id: "l1-unreachable" }, `no answer from ${l1Url}: settlement is not shown`)]]);
  }
  return kv([
    l2Row,
    ["L1 head", link(href.l1Block(l1Head), String(l1Head))],
    [
      "Committed batch",
      rollup.committedBatch === 0 ? "none yet" : [link(href.batch(rollup.committedBatch), String(rollup.committedBatch)), ` (L2 blocks to ${rollup.committedL2Block})`],
    ],
    [
      "Finalized batch",
      rollup.finalizedBatch === 0 ? "none yet" : [link(href.batch(rollup.finalizedBatch), String(rollup.finalizedBatch)), ` (L2 blocks to ${rollup.finalizedL2Block})`],
    ],
    ["Finalized root", h("span", { title: rollup.finalizedRoot }, mono(short(rollup.finalizedRoot, 10)))],
  ]);
}

function blocksTable(blocks: BlockView[]): Child {
  return table(
    ["block", "age", "txs", "hash"],
    blocks.map((b) => [
      link(href.block(b.number), String(b.number)),
      h("span", { title: time(b.timestampMs).textContent ?? "" }, ago(b.timestampMs)),
      b.txCount,
      hashLink(href.block(b.hash), b.hash),
    ]),
    "No blocks yet.",
  );
}

/** The latest blocks' transactions; their settlement stage follows from the rollup's marks
 * (`executed` at most when the L1 does not answer). */
function txsTable(blocks: BlockView[], rollup: RollupView | undefined): Child {
  const rows: Child[][] = [];
  for (const b of blocks) {
    const stage =
      rollup === undefined
        ? "executed"
        : b.number <= rollup.finalizedL2Block
          ? "finalized"
          : b.number <= rollup.committedL2Block
            ? "committed"
            : "executed";
    for (const tx of b.transactions) {
      if (rows.length === LATEST_MAX) break;
      rows.push([hashLink(href.tx(tx), tx), link(href.block(b.number), String(b.number)), h("span", { class: `badge ${stage}` }, stage)]);
    }
  }
  return table(["transaction", "block", "stage"], rows, "No transactions in the latest blocks.");
}
