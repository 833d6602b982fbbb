/**
 * The account page: balances and nonce (`l2_getAccount`), the primary name of its
 * key (`naming_reverse`), and its state proof (`l2_getProof`) checked in the
 * browser with `verifyProof` against the root the L1 recorded for that batch.
 */

import { type ProofView, isRpcError, verifyProof } from "@ghostplane/client";
import { l1, l2 } from "../api";
import { type Child, amount, badge, h, heading, href, kv, lazySection, link, mono, notFound, section, with0x } from "../render";
import { balancesTable, isHash32, TOKENS } from "./common";

/** `#/account/<id or public key>` */
export async function accountPage([id = ""]: string[]): Promise<Child> {
  const query = /^\d+$/.test(id) ? Number(id) : isHash32(id) ? with0x(id) : undefined;
  const account = query === undefined ? null : await l2.getAccount(query);
  if (account === null) return notFound(`No L2 account ${id}.`);
  const name = h("span", null, "…");
  showPrimaryName(name, account.publicKey);
  return [
    heading("Account", String(account.id)),
    kv([
      ["Public key", mono(with0x(account.publicKey))],
      ["Nonce", String(account.nonce)],
      ["Pending nonce", account.pendingNonce === account.nonce ? null : String(account.pendingNonce)],
      ["Name", name],
    ]),
    section("Balances", balancesTable(account.balances)),
    lazySection("State proof", () => proofView(account.id)),
  ];
}

/** Fills `el` with the key's primary name (forward-verified by the L1), or "none". */
function showPrimaryName(el: HTMLElement, key: string): void {
  l1.namingReverse(key).then(
    (name) => el.replaceChildren(name === null ? h("span", { class: "muted" }, "none") : link(href.name(name), name)),
    () => el.replaceChildren("?"),
  );
}

/** The outcome of checking a state proof: the verified root, or why it failed. */
export interface CheckedProof {
  answer: ProofView;
  verified: boolean;
  message: string;
}

/**
 * Fetches `l2_getProof(target)` and checks it with `verifyProof` against the root
 * the L1 recorded for the answer's batch (`rollup_getBatch(batch).newRoot`), so
 * that only the L1 is trusted. `undefined` if no finalized batch holds the target yet.
 */
export async function checkedProof(target: number | string): Promise<CheckedProof | undefined> {
  let answer: ProofView;
  try {
    answer = await l2.getProof(target);
  } catch (e) {
    if (isRpcError(e, "UNAVAILABLE") || isRpcError(e, "INVALID_PARAMS")) return undefined;
    throw e;
  }
  const batch = await l1.getBatch(answer.batch);
  try {
    if (batch === null) throw new Error(`the L1 has no batch ${answer.batch}`);
    const root = verifyProof(answer, with0x(batch.newRoot));
    return { answer, verified: true, message: `verified against root ${root} of batch ${answer.batch}` };
  } catch (e) {
    return { answer, verified: false, message: `does not verify: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A checked proof: the verdict, and the leaf it proves. */
async function proofView(target: number): Promise<Child> {
  const checked = await checkedProof(target);
  if (checked === undefined) return h("p", { class: "muted" }, "No finalized batch holds this account yet (the L2 answers proofs against the last finalized root).");
  const { answer, verified, message } = checked;
  return [
    h("p", { id: "proof-verdict", class: verified ? "ok wrap" : "error wrap" }, badge(verified ? "verified" : "failed"), " ", message),
    kv([
      ["Batch", link(href.batch(answer.batch), String(answer.batch))],
      ["Tree", answer.treeHash],
      ["Leaf nonce", answer.leaf === null ? "empty leaf" : String(answer.leaf.nonce)],
      [
        "Leaf balances",
        answer.leaf === null ? null : TOKENS.map((t, i) => `${t} ${amount(answer.leaf!.balances[i] ?? "0")}`).join(" · "),
      ],
      ["Siblings", `${answer.siblings.length} (leaf level first)`],
    ]),
  ];
}
