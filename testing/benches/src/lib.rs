//! # ghostplane-benches
//!
//! Criterion benchmarks of each Ghostplane stage, run with `cargo bench -p
//! ghostplane-benches`. The library is empty; the benches live in `benches/`:
//!
//! - `primitives`: ed25519 verify (single, and batches of 64, 256 and 1024), blake3
//!   transaction hash, Poseidon 2-to-1, 4-to-1 and the 7-input account leaf, encode and
//!   decode of a signed transfer.
//! - `executor`: native transfers per second (sequential, and 1 and 2 threads, low and
//!   high contention), contract calls per second (token transfers, and counter calls
//!   that all hit one slot), and deploy.
//! - `sequencer`: the ingest pipeline in process (submit to durable "accepted"), and
//!   end to end over QUIC and over HTTP on loopback (submit to executed).
//!
//! Figures go in docs/benchmarks.md as medians, with the machine they ran on.
