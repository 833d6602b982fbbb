/** Small pieces several pages share: input checks, event rows, balances. */

import type { EventView } from "@ghostplane/client";
import { type Child, amount, h, hashLink, href, mono, table, with0x } from "../render";

/** The four native tokens, in id order. */
export const TOKENS = ["GCC", "SPIRIT", "MANA", "GHOST"] as const;

/** Whether `text` is 32 bytes of hex, with or without `0x`. */
export function isHash32(text: string): boolean {
  return /^(0x)?[0-9a-fA-F]{64}$/.test(text);
}

/** A topic as text when it is a short zero-padded name (`transfer`), else its hex. */
export function topicText(topic: string): string {
  const hex = topic.replace(/^0x/, "");
  const name = hex.replace(/(00)+$/, "");
  if (name.length === 0 || name.length % 2 !== 0) return with0x(topic);
  const chars = name.match(/../g)!.map((b) => parseInt(b, 16));
  return chars.every((c) => c >= 0x20 && c < 0x7f) ? String.fromCharCode(...chars) : with0x(topic);
}

/** Table rows of events: contract, topic (as text when it is one), data. */
export function eventRows(events: EventView[]): Child[][] {
  return events.map((e) => [
    hashLink(href.contract(e.contract), e.contract),
    h("span", { title: with0x(e.topic) }, topicText(e.topic)),
    e.data === "" ? "" : mono(with0x(e.data)),
  ]);
}

/** A balances table by token symbol. */
export function balancesTable(balances: Record<string, string>): Child {
  return table(
    ["token", "balance (base units)"],
    TOKENS.map((t) => [t, h("span", { class: "num", "data-token": t }, amount(balances[t] ?? "0"))]),
  );
}
