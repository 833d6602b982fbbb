/**
 * The contract page: code hash and storage root from the contract's state proof
 * (checked like an account's), its recent events (`l2_getLogs`), and, read by one
 * of the bundled interface descriptions, its events decoded and its read-only
 * methods callable (`l2_call`). A contract that looks like a GRC-20 token
 * (`tokenGuess`: it answers `totalSupply`, emitted a `transfer` event, and its
 * recipient's `balanceOf` fits the supply) is read as one by default, the page
 * saying why, with a table of holders: the accounts its `transfer` events name,
 * each with `balanceOf`.
 */

import {
  AMM_INTERFACE,
  COUNTER_INTERFACE,
  type ContractInterface,
  ESCROW_INTERFACE,
  type LogView,
  ROUTER_INTERFACE,
  TOKEN_INTERFACE,
  bindContract,
  decodeEvent,
  eventTopic,
} from "@ghostplane/client";
import { isContract, l2 } from "../api";
import { go } from "../router";
import {
  type Child,
  amount,
  badge,
  errorBox,
  fill,
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
  with0x,
} from "../render";
import { checkedProof } from "./account";
import { isHash32, topicText } from "./common";

/** The interfaces a user can read a contract by (`sdk/assemblyscript/contracts/*.interface.json`, as the client bundles them). */
const INTERFACES: Record<string, ContractInterface> = Object.fromEntries(
  [TOKEN_INTERFACE, AMM_INTERFACE, ESCROW_INTERFACE, ROUTER_INTERFACE, COUNTER_INTERFACE].map((i) => [i.name, i]),
);
/** The account id a GRC-20 token's mint event names as its sender. */
const MINT_SENDER = 0xffff_ffff;
/** Pages of 1,000 logs read for recent events, and for a token's holders. */
const RECENT_PAGES_MAX = 5;
const HOLDER_PAGES_MAX = 20;
/** Recent events are looked for in the last 1,000 blocks first, then further back. */
const RECENT_WINDOW_BLOCKS = 1_000;
/** Events listed, newest first; holders asked for their balance. */
const RECENT_SHOWN_MAX = 50;
const HOLDERS_MAX = 200;
/** `l2_getLogs` refuses a range over 100,000 blocks. */
const LOG_RANGE_BLOCKS_MAX = 99_999;

/** `#/contract/<address>[/<interface>]` */
export async function contractPage([raw = "", chosen]: string[]): Promise<Child> {
  if (!isHash32(raw)) return notFound(`"${raw}" is not a contract address (64 hex digits).`);
  const address = with0x(raw).toLowerCase();
  if (!(await isContract(address))) return notFound(`No contract at ${address}.`);
  const guess = chosen === undefined ? await tokenGuess(address) : undefined;
  const name = chosen ?? (guess?.token ? "token" : "");
  const iface = INTERFACES[name];

  const picker = h(
    "select",
    { id: "interface", "aria-label": "Interface", onchange: (e: Event) => go(`${href.contract(address)}/${(e.target as HTMLSelectElement).value}`) },
    h("option", { value: "" }, "none (raw events)"),
    Object.keys(INTERFACES).map((n) => h("option", { value: n, selected: n === name }, n)),
  );

  return [
    heading("Contract", mono(address)),
    lazySection("State", () => stateView(address)),
    h("p", { class: "view" }, h("label", { for: "interface" }, "Read as interface "), picker),
    guess ? h("p", { class: "muted wrap", id: "token-guess" }, guess.why) : null,
    iface?.name === "token" ? lazySection("Token holders", () => holdersView(address)) : null,
    iface ? section("Read-only methods", viewsForm(iface, address)) : null,
    lazySection("Recent events", () => eventsView(address, iface)),
  ];
}

/** Whether the page reads a contract as a GRC-20 token by default, and why (or why not). */
interface TokenGuess {
  token: boolean;
  why: string;
}

/**
 * A heuristic, not a check of the contract's code: a contract is read as a
 * GRC-20 token when it answers `totalSupply` with a u64, has emitted an event
 * with GRC-20's `transfer` topic whose data is a transfer (from, to, amount),
 * and `balanceOf` that transfer's recipient is at most the supply. Answering
 * `totalSupply` alone is not enough: the counter answers any input with 8 bytes.
 * `undefined` when the contract does not answer `totalSupply` (nothing to say).
 */
async function tokenGuess(address: string): Promise<TokenGuess | undefined> {
  const token = bindContract(TOKEN_INTERFACE, address, { l2 });
  let supply: bigint;
  try {
    supply = await token.totalSupply();
  } catch {
    return undefined;
  }
  const head = await l2.blockNumber();
  const { logs } = await l2.getLogs({
    contract: address,
    topics: [eventTopic(TOKEN_INTERFACE, "transfer")],
    fromBlock: Math.max(0, head - LOG_RANGE_BLOCKS_MAX),
    toBlock: head,
    limit: 1,
  });
  const log = logs[0];
  let to: number | undefined;
  try {
    const data = log === undefined ? undefined : decodeEvent(TOKEN_INTERFACE, log)?.data;
    if (typeof data?.to === "number") to = data.to;
  } catch {
    // Data of another shape under the same topic: not a GRC-20 transfer.
  }
  const notRead = `It answers a totalSupply call with a u64 (${amount(supply)}), but is not read as a GRC-20 token by default:`;
  if (log === undefined || to === undefined) {
    return { token: false, why: `${notRead} it emitted no GRC-20 transfer event in the last ${amount(LOG_RANGE_BLOCKS_MAX + 1)} blocks. Choose "token" to read it so.` };
  }
  let balance: bigint;
  try {
    balance = await token.balanceOf(to);
  } catch {
    return { token: false, why: `${notRead} it does not answer balanceOf(${to}), the recipient of its transfer event in block ${log.block}.` };
  }
  if (balance > supply) {
    return { token: false, why: `${notRead} balanceOf(${to}) = ${amount(balance)} is over that supply.` };
  }
  return {
    token: true,
    why:
      `Read as GRC-20 because it answers totalSupply (${amount(supply)}), it emitted a GRC-20 transfer event (block ${log.block}, to account ${to}), ` +
      `and balanceOf(${to}) = ${amount(balance)} is within the supply. A guess from its answers and events, not a check of its code.`,
  };
}

/** Code hash and storage root, from the proof against the last finalized root. */
async function stateView(address: string): Promise<Child> {
  const checked = await checkedProof(address);
  if (checked === undefined) return h("p", { class: "muted" }, "Not in a finalized batch yet: no state proof to show.");
  const { answer, verified, message } = checked;
  const c = answer.contract!;
  return [
    kv([
      ["Account", link(href.account(answer.account), String(answer.account))],
      ["Code hash", mono(with0x(c.codeHash))],
      ["Storage root", mono(with0x(c.storageRoot))],
      ["Proof", h("span", { id: "proof-verdict", class: verified ? "ok wrap" : "error wrap" }, badge(verified ? "verified" : "failed"), " ", message)],
    ]),
  ];
}

/** Reads logs of `address` (optionally of one topic) from `window` blocks back, up to `pages` pages. */
async function readLogs(address: string, window: number, pages: number, topic?: string): Promise<{ logs: LogView[]; complete: boolean }> {
  const head = await l2.blockNumber();
  const logs: LogView[] = [];
  let after: string | undefined;
  for (let page = 0; page < pages; page++) {
    const answer = await l2.getLogs({
      contract: address,
      fromBlock: Math.max(0, head - window),
      toBlock: head,
      ...(topic === undefined ? {} : { topics: [topic] }),
      ...(after === undefined ? {} : { after }),
    });
    logs.push(...answer.logs);
    if (answer.next === undefined) return { logs, complete: true };
    after = answer.next;
  }
  return { logs, complete: false };
}

/** The token's holders from its transfer events, with `balanceOf` each, largest first. */
async function holdersView(address: string): Promise<Child> {
  const contract = bindContract(TOKEN_INTERFACE, address, { l2 });
  const { logs, complete } = await readLogs(address, LOG_RANGE_BLOCKS_MAX, HOLDER_PAGES_MAX, eventTopic(TOKEN_INTERFACE, "transfer"));
  const accounts = new Set<number>();
  for (const log of logs) {
    const data = decodeEvent(TOKEN_INTERFACE, log)?.data;
    for (const id of [data?.from, data?.to]) if (typeof id === "number" && id !== MINT_SENDER) accounts.add(id);
  }
  const ids = [...accounts].slice(0, HOLDERS_MAX);
  const [supply, balances] = await Promise.all([
    contract.totalSupply(),
    Promise.all(ids.map((id) => contract.balanceOf(id))),
  ]);
  const holders = ids.map((id, i) => ({ id, balance: balances[i]! })).filter((x) => x.balance > 0n);
  holders.sort((a, b) => (b.balance > a.balance ? 1 : b.balance < a.balance ? -1 : a.id - b.id));
  return [
    kv([["Total supply", h("span", { id: "total-supply" }, amount(supply))]]),
    table(
      ["account", "balance (balanceOf)"],
      holders.map((x) => [link(href.account(x.id), String(x.id)), h("span", { class: "num", "data-holder": x.id }, amount(x.balance))]),
      "No holder with a balance.",
    ),
    !complete || accounts.size > HOLDERS_MAX ? h("p", { class: "muted" }, "Holders from the first transfer events only (more exist).") : null,
  ];
}

/** A form per read-only method: its arguments in, its decoded return out. */
function viewsForm(iface: ContractInterface, address: string): Child {
  const views = iface.methods.filter((m) => !m.mutates);
  if (views.length === 0) return h("p", { class: "muted" }, `The ${iface.name} interface has no read-only methods.`);
  const contract = bindContract(iface, address, { l2 }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  return views.map((m) => {
    const inputs = m.args.map((a) => h("input", { name: a.name, placeholder: `${a.name}: ${a.type}`, "aria-label": a.name, required: true }));
    const output = h("output", { class: "mono wrap" });
    const form = h(
      "form",
      { class: "view", "data-method": m.name },
      h("strong", null, m.name),
      inputs,
      h("button", { type: "submit" }, "Call"),
      output,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      fill(output, "…");
      const args = m.args.map((a, i) => (a.type === "address" ? inputs[i]!.value.trim() : /^u(8|32)$/.test(a.type) ? Number(inputs[i]!.value) : BigInt(inputs[i]!.value)));
      contract[m.name]!(...args).then(
        (value) => fill(output, show(value)),
        (err: unknown) => fill(output, errorBox(err)),
      );
    });
    return form;
  });
}

/** A decoded value as text: amounts (u64, u128) with separators, ids as they are, records as `name = value` pairs. */
function show(value: unknown): string {
  if (value === undefined) return "(nothing returned)";
  if (typeof value === "bigint") return amount(value);
  if (typeof value === "object" && value !== null) return Object.entries(value).map(([k, v]) => `${k} = ${show(v)}`).join(", ");
  return String(value);
}

/** The newest events, decoded by the interface when one is chosen. */
async function eventsView(address: string, iface: ContractInterface | undefined): Promise<Child> {
  let { logs, complete } = await readLogs(address, RECENT_WINDOW_BLOCKS, RECENT_PAGES_MAX);
  if (complete && logs.length < RECENT_SHOWN_MAX) ({ logs, complete } = await readLogs(address, LOG_RANGE_BLOCKS_MAX, RECENT_PAGES_MAX));
  const recent = logs.slice(-RECENT_SHOWN_MAX).reverse();
  const rows = recent.map((log) => {
    let decoded: ReturnType<typeof decodeEvent> = null;
    try {
      decoded = iface ? decodeEvent(iface, log) : null;
    } catch {
      // Data that does not fit the chosen interface is shown raw.
    }
    return [
      link(href.block(log.block), String(log.block)),
      hashLink(href.tx(log.txHash), log.txHash),
      decoded ? decoded.name : h("span", { title: with0x(log.topic) }, topicText(log.topic)),
      decoded ? show(decoded.data) : log.data === "" ? "" : mono(with0x(log.data)),
    ];
  });
  return [
    table(["block", "transaction", "event", "data"], rows, "No events."),
    complete ? null : h("p", { class: "muted" }, `Only the first ${logs.length} events of the last blocks were read.`),
  ];
}
