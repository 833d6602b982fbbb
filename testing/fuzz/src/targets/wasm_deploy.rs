//! `wasm-deploy`: contract modules at deploy: rewrite, compile, instantiate within the bounds.

use ghostplane_executor::WasmRuntime;
use ghostplane_primitives::Hash32;

use crate::Harness;

pub(super) struct WasmDeploy {
    runtime: WasmRuntime,
}

impl WasmDeploy {
    pub(super) fn new() -> Result<Self, String> {
        Ok(Self {
            runtime: WasmRuntime::with_module_cache_bytes(64 * 1024 * 1024)
                .map_err(|e| e.to_string())?,
        })
    }
}

impl Harness for WasmDeploy {
    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            include_str!("../../../../crates/l2/executor/contracts/counter.wat"),
            include_str!("../../../../crates/l2/executor/contracts/token.wat"),
            include_str!("../../../../crates/l2/executor/contracts/registry.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/infinite_loop.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/memory_bomb.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/deep_recursion.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/huge_memory.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/bulk_memory.wat"),
            include_str!("../../../../crates/l2/executor/contracts/hostile/bad_import.wat"),
        ]
        .iter()
        .filter_map(|text| wat::parse_str(text).ok())
        .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let hash = Hash32(*blake3::hash(input).as_bytes());
        // Err is the typed refusal a deploy receipt carries.
        Ok(self.runtime.validate(hash, input).is_ok())
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // Cranelift's working set for one module, plus the cache entry.
        128 * 1024 * 1024 + 512 * input_len
    }
}
