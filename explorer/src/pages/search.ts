/**
 * Search: what a query can be, asked of both nodes at once. One match opens its
 * page; several are listed (a number is often an L2 block, an L1 block and an
 * account at once); none says so plainly.
 *
 * ```text
 * name.ghost (.gcc .warp .arc .gcp)  → name
 * did:…                              → DID
 * 123                                → L2 block, L1 block, L2 account, batch
 * 64 hex digits (0x optional)        → L2 transaction, L2 block hash, L1 transaction,
 *                                      L2 account key, contract address (in that order)
 * ```
 */

import { isContract, l1, l2 } from "../api";
import { type Child, h, heading, href, link, mono, notFound, with0x } from "../render";
import { isHash32 } from "./common";

/** Account ids are below 2^24 (the node refuses larger ones as invalid). */
const ACCOUNT_ID_LIMIT = 2 ** 24;

/** A page the query leads to. */
interface Match {
  label: string;
  href: string;
}

/** `#/search/<query>` */
export async function searchPage([raw = ""]: string[]): Promise<Child> {
  const query = raw.trim();
  const matches = await find(query);
  if (matches.length === 1) {
    location.replace(matches[0]!.href);
    return h("p", { class: "muted" }, "opening…");
  }
  if (matches.length === 0) {
    const box = notFound(`Nothing found for "${query}".`);
    box.append(h("p", { class: "muted" }, "Search takes an L2 transaction or block hash, a block number, an L1 block height or transaction hash, an account id or public key, a contract address, a name ending in .ghost, or a did:ghost DID."));
    return box;
  }
  return [
    heading("Search", mono(query)),
    h("ul", { class: "matches" }, matches.map((m) => h("li", null, link(m.href, m.label)))),
  ];
}

/** Every page the query matches, in the order they are listed. */
async function find(query: string): Promise<Match[]> {
  if (/\.(ghost|gcc|warp|arc|gcp)$/i.test(query)) {
    const name = await l1.namingResolve(query.toLowerCase());
    return name === null ? [] : [{ label: `name ${name.name}`, href: href.name(name.name) }];
  }
  if (query.startsWith("did:")) {
    const result = await l1.identityResolve(query);
    return result.didDocument ? [{ label: `DID ${query}`, href: href.did(query) }] : [];
  }
  if (/^\d{1,15}$/.test(query)) {
    const n = Number(query);
    const [block, l1Block, account, batch] = await Promise.all([
      l2.getBlock(n),
      l1.getBlock(n),
      n < ACCOUNT_ID_LIMIT ? l2.getAccount(n) : null,
      l1.getBatch(n),
    ]);
    return [
      block && { label: `L2 block ${n}`, href: href.block(n) },
      l1Block && { label: `L1 block ${n}`, href: href.l1Block(n) },
      account && { label: `L2 account ${n}`, href: href.account(n) },
      batch && { label: `batch ${n}`, href: href.batch(n) },
    ].filter((m): m is Match => !!m);
  }
  if (isHash32(query)) {
    const hex = with0x(query).toLowerCase();
    const [status, receipt, block, l1Tx, account, contract] = await Promise.all([
      l2.getTransactionStatus(hex),
      l2.getTransactionReceipt(hex),
      l2.getBlockByHash(hex),
      l1.getTransaction(hex),
      l2.getAccount(hex),
      isContract(hex),
    ]);
    return [
      (status.status !== "unknown" || receipt !== null) && { label: `L2 transaction ${hex}`, href: href.tx(hex) },
      block && { label: `L2 block ${block.number}`, href: href.block(block.number) },
      l1Tx.status !== "unknown" && { label: `L1 transaction ${hex}`, href: href.l1Tx(hex) },
      account && { label: `L2 account ${account.id}`, href: href.account(hex) },
      contract && { label: `contract ${hex}`, href: href.contract(hex) },
    ].filter((m): m is Match => !!m);
  }
  return [];
}
