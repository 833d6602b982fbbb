// Builds the explorer into dist/: app.js (the TypeScript bundled and minified by
// esbuild, `@ghostplane/client` taken from its sources in ../sdk/ts/src and
// `borsh` from ../sdk/ts/node_modules, so sdk/ts is installed first), app.css
// (minified) and index.html. The Rust node embeds these three files.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
mkdirSync(here("dist"), { recursive: true });

await esbuild.build({
  entryPoints: [here("src/main.ts")],
  outfile: here("dist/app.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2022",
  platform: "browser",
  legalComments: "none",
  // borsh is the client's copy (sdk/ts pins its version): the explorer's L1
  // decoder and the client then share one borsh-js in the bundle.
  alias: { "@ghostplane/client": here("../sdk/ts/src/index.ts"), borsh: here("../sdk/ts/node_modules/borsh/lib/esm/index.js") },
  logLevel: "warning",
});
await esbuild.build({
  entryPoints: [here("static/app.css")],
  outfile: here("dist/app.css"),
  minify: true,
  logLevel: "warning",
});
copyFileSync(here("static/index.html"), here("dist/index.html"));
