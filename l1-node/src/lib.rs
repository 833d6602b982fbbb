//! # ghostd
//!
//! **Not built yet.** This crate will be the L1 node: blocks, consensus, RocksDB
//! storage, JSON-RPC (:8545), and the rollup, ledger, identity and naming modules
//! (DESIGN §3.6). It holds no code until that work lands.
