//! # ghostplane-tests
//!
//! Home of the multi-component, multi-process integration tests (devnet end to end,
//! SIGKILL recovery, forged batches). There are none yet: only one component
//! (`ghostplane-primitives`) is built, and its tests live beside it. The single-binary
//! process tests of the `ghostplane` CLI live in `cli/tests/`.
