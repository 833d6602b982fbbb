//! # ghostplane-prover
//!
//! **Not built yet.** This crate will own the Poseidon account tree, the merkleizer,
//! the Groth16 chunk circuit, setup/prove/verify, the job coordinator and the stateless
//! worker (DESIGN §3.3). It holds no code until that work lands; the native leaf and
//! node hashes it will use already live in `ghostplane-primitives`.
