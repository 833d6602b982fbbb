/**
 * The explorer's entry: reads `config.json`, wires the header's search box and
 * starts the router over the pages.
 *
 * ```text
 * location.hash ─▶ router ─▶ page(args, scope) ─▶ api (L2Client, L1Client) ─▶ nodes
 *                    │            └─ subscriptions and timers hang on the scope,
 *                    └─ disposes the old scope on every navigation
 * ```
 */

import { connect } from "./api";
import { accountPage } from "./pages/account";
import { batchPage, blockPage } from "./pages/block";
import { contractPage } from "./pages/contract";
import { homePage } from "./pages/home";
import { l1BlockPage, l1TxPage } from "./pages/l1";
import { didPage, namePage } from "./pages/names";
import { searchPage } from "./pages/search";
import { txPage } from "./pages/tx";
import { errorBox, fill, href, notFound } from "./render";
import { go, startRouter } from "./router";

async function main(): Promise<void> {
  const mainEl = document.getElementById("main")!;
  try {
    await connect();
  } catch (e) {
    fill(mainEl, errorBox(e));
    return;
  }
  const form = document.getElementById("search") as HTMLFormElement;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements.namedItem("q") as HTMLInputElement;
    const query = input.value.trim();
    if (query !== "") go(href.search(query));
  });
  startRouter(
    mainEl,
    [
      { prefix: [], page: homePage },
      { prefix: ["tx"], page: txPage },
      { prefix: ["block"], page: blockPage },
      { prefix: ["batch"], page: batchPage },
      { prefix: ["account"], page: accountPage },
      { prefix: ["contract"], page: contractPage },
      { prefix: ["l1", "block"], page: l1BlockPage },
      { prefix: ["l1", "tx"], page: l1TxPage },
      { prefix: ["name"], page: namePage },
      { prefix: ["did"], page: didPage },
      { prefix: ["search"], page: searchPage },
    ],
    async () => notFound(`No page at ${location.hash}.`),
  );
}

void main();
