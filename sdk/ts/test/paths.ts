/** Paths of the repository's shared files, from the compiled test's location (`sdk/ts/dist-test/test/`). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** A file of the repository, as text (`undefined` if absent). */
export function repoFile(path: string): string | undefined {
  const full = resolve(REPO, path);
  return existsSync(full) ? readFileSync(full, "utf8") : undefined;
}

/** The `name = value` lines of a document's ```` ```vectors ```` blocks, as the Rust test reads them. */
export function documentedVectors(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  let inside = false;
  for (const raw of doc.split("\n")) {
    const line = raw.trim();
    if (!inside) {
      inside = line === "```vectors";
      continue;
    }
    if (line.startsWith("```")) {
      inside = false;
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf(" = ");
    if (at < 0) throw new Error(`not a \`name = value\` line: ${line}`);
    const name = line.slice(0, at).trim();
    if (out.has(name)) throw new Error(`${name} twice`);
    out.set(name, line.slice(at + 3).trim());
  }
  return out;
}

/** `[a, b, …]` of decimal or `0x` integers. */
export function parseList(text: string): bigint[] {
  return text
    .replace(/^\[|\]$/g, "")
    .split(", ")
    .filter((x) => x.length > 0)
    .map((x) => BigInt(x));
}

/** `[a, b, …]` as numbers. */
export function parseNumbers(text: string): number[] {
  return parseList(text).map(Number);
}
