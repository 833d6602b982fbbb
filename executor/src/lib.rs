//! # ghostplane-executor
//!
//! **Not built yet.** This crate will own the flat state store (RocksDB behind a
//! write-back cache), the native state-transition rules for the four tokens, the
//! wasmtime contract runtime and its host ABI, the Block-STM-style parallel scheduler
//! and per-block receipts (DESIGN §3.4). It holds no code until that work lands.
