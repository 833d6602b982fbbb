//! # ghostplane-tests
//!
//! Home of the multi-component, multi-process integration tests. `tests/devnet.rs`
//! runs the `ghostplane` binary as a real devnet process: deposit L1 → L2, transfer,
//! withdraw L2 → L1, SIGKILL and restart mid-way, finality, balances on both layers,
//! and forged batches sent straight to the L1; `tests/soak.rs` and
//! `tests/bft_hostile_peers.rs` also run the harness binary `ghostplane-bench`. The
//! binaries are found next to the test executable (`target/<profile>/ghostplane`,
//! `target/<profile>/ghostplane-bench`); `cargo test --workspace` builds both, since
//! each package has process tests of its own (`bin/*/tests/`), which need it built.
//! Single-binary process tests of the CLIs live in `bin/ghostplane/tests/` and
//! `bin/ghostplane-bench/tests/`.
