//! # ghostplane-tests
//!
//! Home of the multi-component, multi-process integration tests. `tests/devnet.rs`
//! runs the `ghostplane` binary as a real devnet process: deposit L1 → L2, transfer,
//! withdraw L2 → L1, SIGKILL and restart mid-way, finality, balances on both layers,
//! and forged batches sent straight to the L1. The binary is found next to the test
//! executable (`target/<profile>/ghostplane`), which `cargo test --workspace` builds.
//! Single-binary process tests of the CLI live in `bin/ghostplane/tests/`.
