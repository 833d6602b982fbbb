/**
 * Hash routing: `#/tx/0x…` → the transaction page. Each visit gets a `Scope` that
 * the page hangs its subscriptions and timers on; leaving the page disposes it, so
 * nothing of an old page keeps running or writes into the new one.
 *
 * When a page's main data is on screen the router sets the performance mark
 * `gp-data-rendered` (the browser tests read it as "time to data").
 */

import { type Child, errorBox, fill, h } from "./render";

/** What a page hangs on its visit: cleanup on leave, and whether it is still shown. */
export class Scope {
  #disposers: (() => void)[] = [];
  #live = true;

  /** Whether the page is still the one shown. */
  get live(): boolean {
    return this.#live;
  }

  /** Runs `dispose` when the page is left (or at once if it already was). */
  onDispose(dispose: () => void): void {
    if (this.#live) this.#disposers.push(dispose);
    else dispose();
  }

  /** Calls `fn` every `ms` until the page is left. */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    this.onDispose(() => clearInterval(timer));
  }

  /** Ends the visit: runs every disposer once. */
  dispose(): void {
    this.#live = false;
    for (const dispose of this.#disposers.splice(0)) {
      try {
        dispose();
      } catch {
        // An unsubscribe on a closed socket has nothing left to undo.
      }
    }
  }
}

/** A page: renders its route's arguments (decoded path segments) into content. */
export type Page = (args: string[], scope: Scope) => Promise<Child>;

/** A route: the first path segment(s) and the page for the rest (no segments: the empty path only). */
export interface Route {
  prefix: string[];
  page: Page;
}

/** Starts routing into `main`: renders the current hash now and on every change. */
export function startRouter(main: HTMLElement, routes: Route[], fallback: Page): void {
  let scope = new Scope();
  const show = async () => {
    scope.dispose();
    const current = new Scope();
    scope = current;
    const path = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const route = routes.find((r) =>
      r.prefix.length > 0 ? r.prefix.every((p, i) => path[i] === p) : path.length === 0,
    );
    const page = route ?? { prefix: [], page: fallback };
    fill(main, h("p", { class: "muted" }, "loading…"));
    let content: Child;
    try {
      content = await page.page(path.slice(page.prefix.length), current);
    } catch (err) {
      content = errorBox(err);
    }
    if (!current.live) return;
    fill(main, content);
    window.scrollTo(0, 0);
    performance.mark("gp-data-rendered");
  };
  window.addEventListener("hashchange", show);
  void show();
}

/** Navigates to a route (as a link click would). */
export function go(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}
