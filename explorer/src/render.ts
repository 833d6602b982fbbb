/**
 * Rendering helpers: a hyperscript `h`, links to the explorer's routes, key-value
 * lists, tables that scroll inside themselves (so a phone's page never overflows
 * sideways), and the formatting of hashes, amounts and times.
 */

/** Anything `h` accepts as a child: nodes, text, numbers, nothing, or lists of them. */
export type Child = Node | string | number | bigint | null | undefined | false | Child[];

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element: `h("a", { href: "#/" }, "home")`. `on…` attributes are listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (flattening lists, skipping nothing-values) to `parent`. */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent` with `children`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A `0x…` string shortened to its first and last digits (the full value in the title). */
export function short(hex: string, keep = 6): string {
  const full = with0x(hex);
  return full.length <= 2 + 2 * keep + 1 ? full : `${full.slice(0, 2 + keep)}…${full.slice(-keep)}`;
}

/** `hex` with a `0x` prefix (the nodes print some values with it, some without). */
export function with0x(hex: string): string {
  return hex.startsWith("0x") ? hex : `0x${hex}`;
}

/** A link to an explorer route, e.g. `link("#/block/4", "4")`. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href }, ...children);
}

/** A hash or key as a link: shortened in tables, whole (wrapping) elsewhere. */
export function hashLink(href: string, hex: string, whole = false): HTMLAnchorElement {
  return h("a", { href, class: whole ? "mono wrap" : "mono", title: with0x(hex) }, whole ? with0x(hex) : short(hex));
}

/** A hash or key shown whole, wrapping, in monospace. */
export function mono(text: string): HTMLElement {
  return h("span", { class: "mono wrap" }, text);
}

/** Route builders, so every page links the same way. */
export const href = {
  tx: (hash: string) => `#/tx/${with0x(hash)}`,
  block: (n: number | string) => `#/block/${n}`,
  batch: (n: number | string) => `#/batch/${n}`,
  account: (idOrKey: number | string) => `#/account/${idOrKey}`,
  contract: (address: string) => `#/contract/${with0x(address)}`,
  l1Block: (n: number | string) => `#/l1/block/${n}`,
  l1Tx: (hash: string) => `#/l1/tx/${with0x(hash)}`,
  name: (name: string) => `#/name/${encodeURIComponent(name)}`,
  did: (did: string) => `#/did/${encodeURIComponent(did)}`,
  search: (q: string) => `#/search/${encodeURIComponent(q)}`,
};

/** A definition list of label → value rows; rows whose value is nothing are left out. */
export function kv(rows: [string, Child][]): HTMLElement {
  const dl = h("dl", { class: "kv" });
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === false) continue;
    append(dl, [h("dt", null, label), h("dd", null, value)]);
  }
  return dl;
}

/** A table in its own horizontal scroller; `empty` is shown when there are no rows. */
export function table(head: string[], rows: Child[][], empty = "none"): HTMLElement {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      null,
      h("thead", null, h("tr", null, head.map((t) => h("th", null, t)))),
      h("tbody", null, rows.map((cells) => h("tr", null, cells.map((c) => h("td", null, c))))),
    ),
  );
}

/** A titled section of a page. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", null, h("h2", null, title), ...children);
}

/** A section whose body is filled in later (`load` resolves to it); errors show in place. */
export function lazySection(title: string, load: () => Promise<Child>): HTMLElement {
  const body = h("div", null, h("p", { class: "muted" }, "loading…"));
  load().then(
    (content) => fill(body, content),
    (err: unknown) => fill(body, errorBox(err)),
  );
  return section(title, body);
}

/** The page's heading: a kind ("Transaction") and what it is about. */
export function heading(kind: string, subject?: Child): HTMLElement {
  return h("h1", null, kind, subject !== undefined ? [" ", h("span", { class: "subject" }, subject)] : null);
}

/** A plain "not found" page body. */
export function notFound(what: string): HTMLElement {
  return h("div", { class: "notice" }, h("h1", null, "Not found"), h("p", { class: "wrap" }, what));
}

/** An error shown where the data would have been. */
export function errorBox(err: unknown): HTMLElement {
  return h("p", { class: "error wrap" }, err instanceof Error ? err.message : String(err));
}

/** A status word in a coloured pill (`success`, `failed`, `finalized`, …). */
export function badge(status: string): HTMLElement {
  return h("span", { class: `badge ${status}` }, status);
}

/** A decimal amount string with thousands separators (`1234567` → `1,234,567`). */
export function amount(decimal: string | number | bigint): string {
  return String(decimal).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Bytes as a human size: `1,234 B`, `350.2 KiB`. */
export function bytes(n: number): string {
  return n < 10_240 ? `${amount(n)} B` : `${(n / 1024).toFixed(1)} KiB`;
}

/** A time in ms since the epoch: local date and time, and how long ago. */
export function time(ms: number): HTMLElement {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  const text = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return h("time", { datetime: date.toISOString(), title: `${ago(ms)} ago` }, text);
}

/** How long ago `ms` was, coarsely: `4 s`, `3 min`, `2 h`, `5 d`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
