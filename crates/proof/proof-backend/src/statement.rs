//! What a segment proof states, in both backends' terms: the segment's public
//! context ([`ChunkHeader`]), its op slots ([`ChunkOp`], with the one [`OpKind`]),
//! the rule that turns a pubdata op into its slot ([`ChunkOp::from_pubdata`]), and
//! the [`Statement`] a verifier checks a proof against.
//!
//! The commitment to the slots is each backend's own (Groth16: BN254 Poseidon,
//! `ghostplane-groth16`'s `witness`; STARK: Poseidon2, `ghostplane-stark`'s
//! `segment`); the L1 rebuilds it through [`crate::ProofBackend::commitment`].

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{
    AccountId, Amount, BatchNumber, ChainId, FieldBytes, Nonce, PubdataOp, PublicKey, TokenId,
};

/// The kind of an op slot (the STARK's, one enum for both backends). The
/// discriminant is what enters the commitment. [`OpKind::FeeCredit`] is the STARK
/// segment's own last op: it is never a slot here, and a slot naming it is refused
/// on decode.
pub use ghostplane_stark::segment::OpKind;

/// Decodes a slot kind, refusing [`OpKind::FeeCredit`] (not a slot kind).
fn deserialize_slot_kind<R: std::io::Read>(reader: &mut R) -> std::io::Result<OpKind> {
    match OpKind::deserialize_reader(reader)? {
        OpKind::FeeCredit => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "op kind 5 (the STARK's fee credit) is not a slot kind",
        )),
        kind => Ok(kind),
    }
}

/// One op slot's public fields (everything that enters the commitment).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChunkOp {
    /// Kind (never [`OpKind::FeeCredit`]).
    #[borsh(deserialize_with = "deserialize_slot_kind")]
    pub kind: OpKind,
    /// Token moved (GCC for fee-only ops and no-ops).
    pub token: TokenId,
    /// Sender account (zero if none).
    pub a_index: AccountId,
    /// Sender key (zero if none).
    pub a_key: PublicKey,
    /// Receiver account (zero if none).
    pub b_index: AccountId,
    /// Receiver key, or the L1 recipient of a withdrawal (zero if none).
    pub b_data: [u8; 32],
    /// Whether the receiver account is created by this op; for a forced
    /// withdrawal, whether it took the whole balance.
    pub b_new: bool,
    /// Sender nonce before the op, or the deposit or forced-withdrawal queue
    /// index.
    pub nonce: Nonce,
    /// Amount of `token`.
    pub amount: Amount,
    /// Fee in GCC.
    pub fee: Amount,
}

impl ChunkOp {
    /// The empty slot.
    pub fn noop() -> Self {
        Self {
            kind: OpKind::Noop,
            token: TokenId::Gcc,
            a_index: AccountId::ZERO,
            a_key: PublicKey([0; 32]),
            b_index: AccountId::ZERO,
            b_data: [0; 32],
            b_new: false,
            nonce: 0,
            amount: 0,
            fee: 0,
        }
    }

    /// The slot a pubdata op takes in its segment: the one rule both the prover's
    /// merkleizer and the L1's commit check build slots with. `accounts` holds what
    /// the pubdata does not carry, read before the op. `None` for a contract trace
    /// and a storage proof (the L1 re-executes and checks them; what they change
    /// reaches the tree by the batch's `ContractKey` ops).
    pub fn from_pubdata(op: &PubdataOp, accounts: &SlotAccounts) -> Option<Self> {
        let (a_index, a_key, nonce) = match op.sender() {
            Some(from) => (from, accounts.sender_key, accounts.sender_nonce),
            None => (AccountId::ZERO, PublicKey([0; 32]), 0),
        };
        let sent = |kind, token, amount, fee| Self {
            kind,
            token,
            a_index,
            a_key,
            nonce,
            amount,
            fee,
            ..Self::noop()
        };
        Some(match op {
            PubdataOp::Transfer {
                to,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_index: *to,
                b_data: accounts.receiver_key.0,
                ..sent(OpKind::Transfer, *token, *amount, *fee)
            },
            PubdataOp::TransferToNew {
                to,
                to_key,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_index: *to,
                b_data: to_key.0,
                b_new: true,
                ..sent(OpKind::Transfer, *token, *amount, *fee)
            },
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => Self {
                kind: OpKind::Deposit,
                token: *token,
                b_index: *to,
                b_data: to_key.0,
                b_new: accounts.receiver_new,
                nonce: *queue_index,
                amount: *amount,
                ..Self::noop()
            },
            PubdataOp::Withdraw {
                to,
                token,
                amount,
                fee,
                ..
            } => Self {
                b_data: to.0,
                ..sent(OpKind::Withdraw, *token, *amount, *fee)
            },
            PubdataOp::FeeOnly { fee_paid, .. } => {
                sent(OpKind::FeeOnly, TokenId::Gcc, 0, *fee_paid)
            }
            // A successful deploy or call: a transfer of its value (maybe 0) to the
            // contract's account, which a deploy creates.
            PubdataOp::ContractTx {
                contract,
                tx,
                fee_paid,
                ..
            } => {
                let (token, amount) = tx.value().unwrap_or((TokenId::Gcc, 0));
                Self {
                    b_index: *contract,
                    b_data: accounts.receiver_key.0,
                    b_new: accounts.receiver_new,
                    ..sent(OpKind::Transfer, token, amount, *fee_paid)
                }
            }
            // A contract's move: a transfer from the contract's leaf, fee 0.
            PubdataOp::ContractMove {
                to, token, amount, ..
            } => Self {
                b_index: *to,
                b_data: accounts.receiver_key.0,
                ..sent(OpKind::Transfer, *token, *amount, 0)
            },
            // A contract leaf takes its new key field (from the storage root the
            // L1 computed); `accounts.sender_key` is its key field before.
            PubdataOp::ContractKey { contract, key } => Self {
                kind: OpKind::ContractKey,
                a_index: *contract,
                a_key: accounts.sender_key,
                b_data: key.0,
                ..Self::noop()
            },
            // A forced withdrawal: the account's key (`accounts.sender_key`), no
            // fee, the queue index in the nonce's place; `b_new` carries `full`.
            PubdataOp::ForcedWithdraw {
                queue_index,
                from,
                to,
                token,
                amount,
                full,
            } => Self {
                kind: OpKind::ForcedWithdraw,
                token: *token,
                a_index: *from,
                a_key: accounts.sender_key,
                b_data: to.0,
                b_new: *full,
                nonce: *queue_index,
                amount: *amount,
                ..Self::noop()
            },
            PubdataOp::ContractTrace(_) | PubdataOp::StorageProof(_) => return None,
        })
    }
}

/// What a slot needs of the account state that its pubdata op does not carry,
/// read before the op ([`ChunkOp::from_pubdata`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotAccounts {
    /// The sender's key (ignored for an op without a sender); for a `ContractKey`
    /// op, the contract's key field before it; for a `ForcedWithdraw`, the
    /// account's key.
    pub sender_key: PublicKey,
    /// The sender's nonce before the op (ignored for an op without a sender).
    pub sender_nonce: Nonce,
    /// The receiver's key: for a transfer to an existing account, a contract
    /// transaction (the contract's key field) and a contract move.
    pub receiver_key: PublicKey,
    /// Whether a deposit or a deploy creates its receiver's account.
    pub receiver_new: bool,
}

impl SlotAccounts {
    /// Nothing known: for ops that need none of it (deposits to an existing
    /// account, storage writes).
    pub const NONE: Self = Self {
        sender_key: PublicKey([0; 32]),
        sender_nonce: 0,
        receiver_key: PublicKey([0; 32]),
        receiver_new: false,
    };
}

/// The public context of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChunkHeader {
    /// L2 chain id.
    pub chain_id: ChainId,
    /// Batch the chunk belongs to.
    pub batch: BatchNumber,
    /// Position of the chunk in its batch.
    pub chunk_index: u32,
    /// Account the chunk's fees are credited to.
    pub fee_account: AccountId,
}

/// What one segment proof states: all a verifier needs besides the proof. The L1
/// builds it from its own records, never from the prover.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Statement {
    /// Public context (chain, batch, position, fee account).
    pub header: ChunkHeader,
    /// Accounts root before the segment.
    pub old_root: FieldBytes,
    /// Accounts root after it (fee credit included).
    pub new_root: FieldBytes,
    /// Commitment to the segment's ops.
    pub commitment: FieldBytes,
    /// Op slots the segment was padded to (fixes the proof's size).
    pub slots: u32,
}
