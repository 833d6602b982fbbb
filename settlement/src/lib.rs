//! # ghostplane-settlement
//!
//! **Not built yet.** This crate will own the `L1Client` trait, the batch commit and
//! prove pipeline, finality tracking, and deposits and withdrawals (DESIGN §1). It holds
//! no code until that work lands; the pubdata format it will post already lives in
//! `ghostplane-primitives`.
