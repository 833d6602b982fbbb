// Browser tests of the explorer as the L2 node serves it (`${GHOSTPLANE_L2_URL}/explorer/`),
// driving Debian's Chromium with playwright-core. Inputs (the suite is skipped when one is unset):
//
//   GHOSTPLANE_L2_URL     the L2 sequencer (serves /explorer/ and config.json)
//   GHOSTPLANE_L1_URL     the L1 (ghostd)
//   GHOSTPLANE_NAME       a registered name whose owner is a dev key with an L2 account
//   GHOSTPLANE_TOKEN      a deployed GRC-20 token with a few holders
//   GHOSTPLANE_ARTIFACTS  where screenshots go
//
// Prints `load:` lines: first-contentful-paint and the explorer's own
// `gp-data-rendered` mark (both from navigationStart) for the home and a
// transaction page, and the bundle's size raw and gzipped.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const ENV = ["GHOSTPLANE_L2_URL", "GHOSTPLANE_L1_URL", "GHOSTPLANE_NAME", "GHOSTPLANE_TOKEN", "GHOSTPLANE_ARTIFACTS"];
const missing = ENV.filter((name) => !process.env[name]);
const skip = missing.length > 0 ? `set ${missing.join(", ")} to run the browser tests` : false;
if (skip) console.log(`explorer tests skipped: ${skip}`);

const L2_URL = process.env.GHOSTPLANE_L2_URL?.replace(/\/$/, "");
const EXPLORER = `${L2_URL}/explorer/`;
const ARTIFACTS = process.env.GHOSTPLANE_ARTIFACTS;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** How long a transfer may take to be finalized. */
const FINALIZED_TIMEOUT_MS = 120_000;

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** `@ghostplane/client` for Node, bundled from its sources (the explorer bundles them the same way). */
async function loadClient(dir) {
  const outfile = join(dir, "client.mjs");
  await esbuild.build({
    entryPoints: [here("../../sdk/ts/src/index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "warning",
  });
  return import(outfile);
}

/** Loads the explorer afresh at `route` (a new document, so its timing marks are its own). */
async function open(page, route) {
  await page.goto("about:blank");
  await page.goto(`${EXPLORER}${route}`);
}

/** Waits until the explorer has rendered its page's data; returns the timing figures (ms from navigationStart). */
async function rendered(page) {
  await page.waitForFunction(() => performance.getEntriesByName("gp-data-rendered").length > 0);
  await page.waitForFunction(() => !document.querySelector("main")?.textContent?.includes("loading…"), null, { timeout: 30_000 });
  return page.evaluate(() => ({
    fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
    data: performance.getEntriesByName("gp-data-rendered")[0]?.startTime,
  }));
}

describe("explorer", { skip }, () => {
  let client;
  let l2;
  let context;
  let page;
  let tmp;
  /** Console errors and page errors over the whole run. */
  const errors = [];
  /** Routes of the main pages, filled in as the tests find them. */
  const pages = {};

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "ghostplane-explorer-"));
    mkdirSync(ARTIFACTS, { recursive: true });
    client = await loadClient(tmp);
    l2 = new client.L2Client(L2_URL);
    context = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: DESKTOP,
    });
    context.on("page", (p) => watch(p));
    page = context.pages()[0] ?? (await context.newPage());
    watch(page);
  });

  function watch(p) {
    p.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()} (${p.url()})`));
    p.on("pageerror", (e) => errors.push(`page error: ${e.message} (${p.url()})`));
  }

  after(async () => {
    await context?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("prints the bundle's size", () => {
    const files = ["index.html", "app.js", "app.css"].map((f) => readFileSync(here(`../dist/${f}`)));
    const raw = files.reduce((n, f) => n + f.length, 0);
    const gzip = files.reduce((n, f) => n + gzipSync(f, { level: 9 }).length, 0);
    const js = files[1];
    console.log(`load: bundle ${raw} B raw, ${gzip} B gzip (app.js ${js.length} B raw, ${gzipSync(js, { level: 9 }).length} B gzip)`);
  });

  it("shows the home page with the heads and latest blocks", async () => {
    await open(page, "#/");
    const t = await rendered(page);
    console.log(`load: home first-contentful-paint ${t.fcp?.toFixed(0)} ms, data rendered ${t.data?.toFixed(0)} ms`);
    assert.match(await page.innerText("main"), /L2 head[\s\S]*L1 head[\s\S]*Finalized batch/);
    pages.home = "#/";
  });

  it("follows a transfer to finalized on its page live, without a reload (and the home page sees its block)", async () => {
    const key = client.Keypair.dev(1);
    const [chainId, account, fee] = await Promise.all([l2.chainId(), l2.getAccount(1), l2.minFee()]);
    const transfer = (nonce) =>
      client.signTransaction(
        { kind: "transfer", from: 1, to: { account: 2 }, token: "GCC", amount: 1_000n, fee, nonce: BigInt(nonce) },
        key,
        chainId,
      );
    // The second transfer first: it waits in the pool (accepted) until the first fills the nonce gap,
    // so the page is sure to be open before the transfer moves on.
    const first = transfer(account.pendingNonce);
    const second = transfer(account.pendingNonce + 1);
    // A second tab on the home page sees the transfers' block arrive over its subscription.
    const home = await context.newPage();
    await open(home, "#/");
    await rendered(home);
    const headBefore = Number(await home.innerText("#l2-head"));
    await l2.sendTransaction(second);

    await open(page, `#/tx/${second.hash}`);
    const t = await rendered(page);
    console.log(`load: transaction page first-contentful-paint ${t.fcp?.toFixed(0)} ms, data rendered ${t.data?.toFixed(0)} ms`);
    assert.equal(await page.getAttribute(".step.current", "data-step"), "accepted");
    await page.evaluate(() => {
      window.__sameDocument = true;
    });

    await l2.sendTransaction(first);
    await page.waitForSelector('.step.current[data-step="finalized"]', { timeout: FINALIZED_TIMEOUT_MS });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was reloaded");
    const status = await l2.getTransactionStatus(second.hash);
    await home.waitForFunction((n) => Number(document.getElementById("l2-head")?.textContent) >= n, status.block);
    assert.ok(status.block > headBefore);
    await home.close();
    // What the transaction asked for, from the node's copy of it.
    await page.waitForSelector("#tx-fields");
    const fields = await page.innerText("#tx-fields");
    assert.match(fields, /From\s+account 1/);
    assert.match(fields, /To\s+account 2/);
    assert.match(fields, /Amount\s+1,000 GCC/);
    await page.waitForFunction(() => document.body.innerText.includes("Prove") || document.body.innerText.includes("CommitProven"));
    pages.tx = `#/tx/${second.hash}`;
    pages.block = `#/block/${status.block}`;
    const batch = await page.$eval('a[href^="#/batch/"]', (a) => a.getAttribute("href"));
    pages.batch = batch;
    pages.l1Block = await page.$eval('a[href^="#/l1/block/"]', (a) => a.getAttribute("href"));
  });

  it("shows how long the L1 node took to verify the finalized batch's proofs", async () => {
    assert.ok(pages.batch, "the transaction page linked its batch");
    await open(page, pages.batch);
    await rendered(page);
    assert.match(await page.innerText("main"), /State\s+finalized/);
    // The devnet's L1 applied these proofs since it started, so it measured them.
    const summary = await page.innerText("#verify-time");
    assert.match(summary, /^[\d,.]+ ms total, median [\d,.]+ ms over \d+ chunk proofs?, as measured by the L1 node this page reads/);
    const cells = await page.$$eval("[data-verify-chunk]", (els) => els.map((e) => e.textContent));
    assert.ok(cells.length >= 1, "a chunk row shows its verify time");
    for (const cell of cells) assert.match(cell, /^[\d,.]+ ms$/);
  });

  it("finds the account by its name", async () => {
    const name = process.env.GHOSTPLANE_NAME;
    await open(page, "#/");
    await rendered(page);
    await page.fill('#search input[name="q"]', name);
    await page.press('#search input[name="q"]', "Enter");
    await page.waitForFunction((n) => location.hash === `#/name/${encodeURIComponent(n)}`, name);
    await page.waitForSelector("#owner-account");
    pages.name = `#/name/${encodeURIComponent(name)}`;
    await page.click("#owner-account");
    await page.waitForFunction(() => location.hash.startsWith("#/account/"));
    await page.waitForSelector('[data-token="GCC"]');
    const owner = decodeURIComponent(await page.evaluate(() => location.hash.slice("#/account/".length)));
    const account = await l2.getAccount(owner);
    assert.ok(account, "the owner has an L2 account");
    assert.equal((await page.innerText('[data-token="GCC"]')).replace(/,/g, ""), account.balances.GCC);
    await page.waitForSelector("#proof-verdict", { timeout: 30_000 });
    assert.match(await page.innerText("#proof-verdict"), /verified against root 0x[0-9a-f]{64} of batch \d+/);
    pages.account = `#/account/${owner}`;
  });

  it("says plainly that an unknown hash is not found", async () => {
    const hash = `0x${randomBytes(32).toString("hex")}`;
    await open(page, `#/tx/${hash}`);
    await rendered(page);
    assert.match(await page.innerText("main"), /not found/i);
    await open(page, `#/search/${hash}`);
    await rendered(page);
    assert.match(await page.innerText("main"), new RegExp(`Nothing found for "${hash}"`));
  });

  it("shows the token's holders through its interface", async () => {
    const token = process.env.GHOSTPLANE_TOKEN;
    await open(page, `#/contract/${token}`);
    await rendered(page);
    await page.waitForSelector("#total-supply", { timeout: 30_000 });
    const bound = client.bindContract(client.TOKEN_INTERFACE, token, { l2 });
    assert.equal((await page.innerText("#total-supply")).replace(/,/g, ""), String(await bound.totalSupply()));
    // Read as a token by the heuristic, which says why (its answers and its transfer events).
    assert.equal(await page.$eval("#interface", (s) => s.value), "token");
    assert.match(await page.innerText("#token-guess"), /^Read as GRC-20 because it answers totalSupply \([\d,]+\), it emitted a GRC-20 transfer event/);
    const holders = await page.$$eval("[data-holder]", (els) => els.map((e) => [Number(e.dataset.holder), e.textContent.replace(/,/g, "")]));
    assert.ok(holders.length >= 2, `a few holders, got ${holders.length}`);
    for (const [id, shown] of holders) assert.equal(shown, String(await bound.balanceOf(id)), `account ${id}'s balance`);
    pages.contract = `#/contract/${token}`;
  });

  it("works at a phone's width; screenshots of every main page", async () => {
    const names = ["home", "tx", "block", "batch", "account", "contract", "l1Block", "name"];
    for (const name of names) assert.ok(pages[name], `no route found for the ${name} page`);
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      await page.setViewportSize(viewport);
      for (const name of names) {
        await open(page, pages[name]);
        await rendered(page);
        await page.waitForLoadState("networkidle");
        if (label === "phone") {
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= PHONE.width, `${name} page is ${width} px wide at ${PHONE.width} px`);
        }
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${label}.png`), fullPage: true });
      }
    }
    await page.setViewportSize(DESKTOP);
  });

  it("logged no console or page errors", () => {
    assert.deepEqual(errors, []);
  });
});
