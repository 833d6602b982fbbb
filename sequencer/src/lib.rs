//! # ghostplane-sequencer
//!
//! **Not built yet.** This crate will own the JSON-RPC server (:9090), QUIC ingest
//! (:9091), the write-ahead log, per-sender nonce lanes and the block builder
//! (DESIGN §3.5). It holds no code until that work lands.
