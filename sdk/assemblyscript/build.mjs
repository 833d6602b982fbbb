// Compiles every contract in contracts/ to build/<name>.wasm with the flags the
// executor's rules need, and copies its interface description beside it:
//   --runtime stub   a bump allocator, no collector (a call is short-lived)
//   --use abort=     no `env.abort` import (the executor offers none)
//   -O3 --noAssert   optimized; assertions become traps
// Features beyond WebAssembly 2.0 (SIMD, threads, GC, reference types beyond
// 2.0) stay off: asc enables none of them unless asked.
import { main } from "assemblyscript/asc";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";

mkdirSync("build", { recursive: true });
const contracts = readdirSync("contracts").filter((f) => f.endsWith(".ts"));
for (const file of contracts) {
  const name = file.slice(0, -3);
  const { error, stderr } = await main([
    `contracts/${file}`,
    "--outFile", `build/${name}.wasm`,
    "--runtime", "stub",
    "--use", "abort=",
    "-O3", "--noAssert",
  ]);
  if (error) {
    console.error(stderr.toString());
    process.exit(1);
  }
  copyFileSync(`contracts/${name}.interface.json`, `build/${name}.interface.json`);
  console.log(`build/${name}.wasm`);
}
