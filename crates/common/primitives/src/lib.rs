//! # ghostplane-primitives
//!
//! The vocabulary every Ghostplane crate speaks: identifiers and amounts, transactions
//! and their canonical encoding, ed25519 signing, blake3 ids, Poseidon hashing, the
//! account tree's leaf and node hashes with Merkle-proof verification, block and batch
//! headers, receipts, L1 deposit events, and the pubdata format posted to L1.
//! No I/O: everything here is a pure function of its inputs.
//!
//! ## Data flow
//!
//! ```text
//! wallet:     Transaction ──signing_message(chain_id)──► ed25519 sign ──► SignedTransaction
//!                                                                           │ encode (borsh)
//! sequencer:  bytes ──decode (size-bounded, strict)──► SignedTransaction    ▼
//!               ├─ check_stateless()      sizes, limits, non-zero amounts  tx hash = blake3(bytes)
//!               └─ verify_transactions()  batched ed25519, per-item result
//! executor:   Receipt, L2BlockHeader  (per-block results)
//! prover:     AccountLeaf::hash, node_hash, MerkleProof   (Poseidon, BN254)
//! settlement: PubdataOp ──encode_pubdata──► bytes on L1 ──decode_pubdata──► L1 validators
//! ```
//!
//! ## Invariants
//!
//! - **One encoding per value.** [`Codec::decode`] rejects input over the type's
//!   bound, truncated input and trailing bytes; `decode(encode(v)) == v` for every
//!   value (property-tested).
//! - **Signatures bind the chain.** The signed message is
//!   [`TX_SIGNING_DOMAIN`] ‖ chain id (u64 LE) ‖ canonical transaction encoding, so a
//!   signature for one chain fails on another.
//! - **Account ids fit the tree.** [`AccountId`] is below 2^24 by construction and on
//!   decode.
//! - **Field elements are canonical.** [`FieldBytes`] only holds values below the
//!   BN254 scalar modulus.
//! - **Poseidon is circomlib's.** Known-answer tests pin it to circomlib's published
//!   values for every width used.
//!
//! ## Limits
//!
//! | what | bound |
//! | --- | --- |
//! | signed transaction | [`SIGNED_TX_BYTES_MAX`] (129 KiB) |
//! | contract code | [`CONTRACT_CODE_BYTES_MAX`] (128 KiB) |
//! | call input | [`CALL_INPUT_BYTES_MAX`] (16 KiB) |
//! | call fuel | [`CALL_FUEL_MAX`] (10^8) |
//! | storage value | [`STORAGE_VALUE_BYTES_MAX`] (1 KiB) |
//! | receipt | [`RECEIPT_BYTES_MAX`] (64 KiB) |
//! | block / batch header, deposit | [`HEADER_BYTES_MAX`] (1 KiB) |
//! | batch pubdata | [`pubdata::PUBDATA_BYTES_MAX`] (16 MiB) |
//! | Poseidon inputs | 1 to [`poseidon::POSEIDON_INPUTS_MAX`] (8) |
//!
//! Pubdata byte sizes per op are documented in [`pubdata`].
//!
//! Also here, because two or more crates need the same rule: [`lanes`] (the nonce
//! admission state machine both mempools use), [`clock`] (time as an input, with a
//! manual clock for tests), [`genesis`] (the L2 genesis type).

pub mod block;
pub mod clock;
pub mod codec;
pub mod constants;
pub mod genesis;
pub mod keys;
pub mod lanes;
pub mod merkle;
pub mod poseidon;
pub mod pubdata;
pub mod storage_proof;
pub mod trace;
pub mod tx;
pub mod types;

pub use block::{
    BatchHeader, DepositEvent, Event, FailureReason, ForcedWithdrawalEvent, L2BlockHeader, Receipt,
    ReceiptStatus,
};
pub use codec::{Codec, CodecError};
pub use constants::*;
pub use genesis::{GenesisAccount, L2Genesis};
pub use keys::{
    KeyCache, Keypair, SignatureError, verify_batch, verify_transaction_refs,
    verify_transaction_refs_cached, verify_transactions,
};
pub use merkle::{AccountLeaf, MerkleProof};
pub use poseidon::{FieldBytes, Fr, poseidon};
pub use pubdata::{PubdataError, PubdataOp, decode_pubdata, encode_pubdata};
pub use storage_proof::{CompactPath, SlotLeaf, SlotStep, StorageProof};
pub use trace::{BalanceRead, ContractTrace, StorageAccess, StorageSlot};
pub use tx::{Recipient, SignedTransaction, StatelessError, Transaction, tx_hash};
pub use types::{
    AccountId, Amount, BatchNumber, BlockNumber, ChainId, ContractAddress, Hash32, L1Address,
    Nonce, PublicKey, Signature, TokenId,
};
