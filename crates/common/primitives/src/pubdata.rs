//! Pubdata: the bytes a batch posts to L1, from which anyone can rebuild the L2 state
//! and every L1 validator re-verifies the batch's signatures.
//!
//! A batch's pubdata is its ops concatenated, in execution order. Every op starts
//! with a one-byte opcode; integers are big-endian, account ids take 3 bytes, amounts
//! 16 bytes, token ids 1 byte, keys, addresses and hashes 32 bytes, signatures 64.
//! Nonces are not posted: the L1 tracks each account's nonce and rebuilds the signed
//! transaction from the op and that nonce.
//!
//! | op | opcode | layout | bytes |
//! | --- | --- | --- | --- |
//! | [`PubdataOp::Transfer`] | `0x01` | from(3) to(3) token(1) amount(16) fee(16) sig(64) | 104 |
//! | [`PubdataOp::TransferToNew`] | `0x02` | from(3) to(3) to_key(32) token(1) amount(16) fee(16) sig(64) | 136 |
//! | [`PubdataOp::Deposit`] | `0x03` | queue_index(8) to(3) to_key(32) token(1) amount(16) | 61 |
//! | [`PubdataOp::Withdraw`] | `0x04` | from(3) to_l1(32) token(1) amount(16) fee(16) sig(64) | 133 |
//! | [`PubdataOp::FeeOnly`] | `0x05` | fee_paid(16) tx_len(4) tx(tx_len) sig(64) | 85 + tx_len |
//! | [`PubdataOp::ContractTx`] | `0x06` | fee_paid(16) contract(3) tx_len(4) tx(tx_len) sig(64) | 88 + tx_len |
//! | [`PubdataOp::ContractTrace`] | `0x07` | trace_len(4) trace(trace_len) | 5 + trace_len |
//! | [`PubdataOp::ContractMove`] | `0x08` | from(3) to(3) token(1) amount(16) | 24 |
//! | [`PubdataOp::StorageProof`] | `0x09` | proof_len(4) proof(proof_len) | 5 + proof_len |
//! | [`PubdataOp::ContractKey`] | `0x0a` | contract(3) key(32) | 36 |
//! | [`PubdataOp::ForcedWithdraw`] | `0x0b` | queue_index(8) from(3) to_l1(32) token(1) amount(16) full(1) | 62 |
//!
//! A `ForcedWithdraw` carries out a request the L1 queued (signed there by the
//! account's key, so it carries no signature and uses no nonce): `amount` is
//! `min(requested, balance)`. `full` (`0x01`) says the request took the whole
//! balance (the account's token balance is zero after it: the proof binds that),
//! `0x00` that it took exactly the requested amount; the L1 checks which fits the
//! request, so the operator can neither pay less than asked nor more.
//!
//! `FeeOnly` carries a transaction whose only effect on the account tree is its fee
//! and nonce: a native transaction that failed, or a contract deploy or call that
//! failed. A deploy or call that succeeded is a `ContractTx`: its fee, nonce and
//! value (moved to the contract's account, which a deploy creates: `contract` is
//! its id). Their `tx` is the transaction's canonical encoding. Every deploy or
//! call (`ContractTx`, or `FeeOnly` of a `Deploy`/`Call`) is followed by exactly
//! one `ContractTrace` op: what its execution read, wrote, emitted and its outcome
//! ([`ContractTrace`], canonical borsh encoding), then by one `ContractMove` per
//! token move its contracts made, in execution order (none if it failed). Every
//! L1 validator re-executes it and compares all of these ([`crate::trace`]). A
//! `ContractMove` carries no signature: the contract's code, re-executed, is what
//! authorizes it, and its sender must be a contract account. After the moves comes
//! exactly one `StorageProof` op: a step per storage slot the transaction read or
//! wrote ([`crate::storage_proof`]), checked by every L1 validator against the
//! contract's storage root.
//!
//! A batch ends with its `ContractKey` ops, in increasing account order: one per
//! contract whose storage root the batch changed, carrying its account leaf's new
//! key field (`ghostplane_stark::storage::contract_key_field`, which commits the
//! contract's address, code hash and storage root). The sequencer's blocks carry
//! neither kind: settlement's merkleizer adds both when it plans a batch.

use crate::codec::{Codec, CodecError};
use crate::storage_proof::StorageProof;
use crate::trace::{ContractTrace, TraceError};
use crate::tx::{Recipient, SignedTransaction, Transaction};
use crate::types::{AccountId, Amount, ChainId, L1Address, Nonce, PublicKey, Signature, TokenId};

/// Largest pubdata of one batch (16 MiB).
pub const PUBDATA_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Encoded size of a `Transfer` op.
pub const TRANSFER_BYTES: usize = 104;
/// Encoded size of a `TransferToNew` op.
pub const TRANSFER_TO_NEW_BYTES: usize = 136;
/// Encoded size of a `Deposit` op.
pub const DEPOSIT_BYTES: usize = 61;
/// Encoded size of a `Withdraw` op.
pub const WITHDRAW_BYTES: usize = 133;
/// Encoded size of a `FeeOnly` op without its transaction bytes.
pub const FEE_ONLY_FIXED_BYTES: usize = 85;
/// Encoded size of a `ContractTx` op without its transaction bytes.
pub const CONTRACT_TX_FIXED_BYTES: usize = 88;
/// Encoded size of a `ContractTrace` op without its trace.
pub const CONTRACT_TRACE_FIXED_BYTES: usize = 5;
/// Encoded size of a `ContractMove` op.
pub const CONTRACT_MOVE_BYTES: usize = 24;
/// Encoded size of a `StorageProof` op without its proof.
pub const STORAGE_PROOF_FIXED_BYTES: usize = 5;
/// Encoded size of a `ContractKey` op.
pub const CONTRACT_KEY_BYTES: usize = 36;
/// Encoded size of a `ForcedWithdraw` op.
pub const FORCED_WITHDRAW_BYTES: usize = 62;

const OP_TRANSFER: u8 = 0x01;
const OP_TRANSFER_TO_NEW: u8 = 0x02;
const OP_DEPOSIT: u8 = 0x03;
const OP_WITHDRAW: u8 = 0x04;
const OP_FEE_ONLY: u8 = 0x05;
const OP_CONTRACT_TX: u8 = 0x06;
const OP_CONTRACT_TRACE: u8 = 0x07;
const OP_CONTRACT_MOVE: u8 = 0x08;
const OP_STORAGE_PROOF: u8 = 0x09;
const OP_CONTRACT_KEY: u8 = 0x0a;
const OP_FORCED_WITHDRAW: u8 = 0x0b;

/// One op of a batch's pubdata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubdataOp {
    /// Transfer between existing accounts.
    Transfer {
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: AccountId,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
        /// Fee in GCC.
        fee: Amount,
        /// The sender's signature.
        signature: Signature,
    },
    /// Transfer that created account `to` for `to_key`.
    TransferToNew {
        /// Sender.
        from: AccountId,
        /// The id the new account got.
        to: AccountId,
        /// The new account's key (published once, here).
        to_key: PublicKey,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
        /// Fee in GCC.
        fee: Amount,
        /// The sender's signature.
        signature: Signature,
    },
    /// An L1 deposit credited on L2 (creating the account if `to_key` had none).
    Deposit {
        /// Position in the L1 deposit queue.
        queue_index: u64,
        /// The credited account.
        to: AccountId,
        /// Its key.
        to_key: PublicKey,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
    },
    /// A withdrawal to L1.
    Withdraw {
        /// Sender.
        from: AccountId,
        /// L1 recipient.
        to: L1Address,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
        /// Fee in GCC.
        fee: Amount,
        /// The sender's signature.
        signature: Signature,
    },
    /// A transaction that only paid a fee and consumed a nonce on the account tree.
    FeeOnly {
        /// GCC actually charged.
        fee_paid: Amount,
        /// The transaction as signed.
        tx: Transaction,
        /// The sender's signature.
        signature: Signature,
    },
    /// A deploy or call that succeeded: the sender paid `fee_paid` and moved the
    /// transaction's value (maybe 0) to the contract's account `contract`, which a
    /// deploy creates.
    ContractTx {
        /// GCC actually charged.
        fee_paid: Amount,
        /// The contract's account id (new for a deploy).
        contract: AccountId,
        /// The transaction as signed (a `Deploy` or `Call`).
        tx: Transaction,
        /// The sender's signature.
        signature: Signature,
    },
    /// What the deploy or call in the op before it did (re-executed by the L1).
    ContractTrace(Box<ContractTrace>),
    /// A token move made by a contract (`from`, a contract account) during the
    /// deploy or call before it; authorized by the re-executed code, not signed.
    ContractMove {
        /// The contract account paying.
        from: AccountId,
        /// The receiver (an account or a contract).
        to: AccountId,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
    },
    /// The storage proof of the deploy or call whose trace and moves come before
    /// it: one step per slot it read or wrote.
    StorageProof(Box<StorageProof>),
    /// A contract account's leaf takes a new key field (its storage root changed
    /// in this batch); only at the batch's end.
    ContractKey {
        /// The contract's account.
        contract: AccountId,
        /// Its new key field.
        key: PublicKey,
    },
    /// A withdrawal the L1 queued and the account's owner signed there.
    ForcedWithdraw {
        /// Position in the L1 forced-withdrawal queue.
        queue_index: u64,
        /// The account withdrawn from.
        from: AccountId,
        /// L1 recipient.
        to: L1Address,
        /// Token.
        token: TokenId,
        /// Amount withdrawn: `min(requested, balance)`.
        amount: Amount,
        /// The whole balance was taken (`amount` may be below the request);
        /// otherwise `amount` is the request.
        full: bool,
    },
}

/// Why pubdata could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubdataError {
    /// Over [`PUBDATA_BYTES_MAX`].
    #[error("pubdata is {len} bytes, over the {max}-byte maximum")]
    Oversize {
        /// Length.
        len: usize,
        /// Bound.
        max: usize,
    },
    /// An opcode this version does not know.
    #[error("unknown pubdata opcode 0x{opcode:02x} at byte {offset}")]
    UnknownOpcode {
        /// The opcode.
        opcode: u8,
        /// Where.
        offset: usize,
    },
    /// The data ended inside an op.
    #[error("pubdata ends inside the op starting at byte {offset}")]
    Truncated {
        /// Where the op starts.
        offset: usize,
    },
    /// A token byte above 3.
    #[error("unknown token id {token} in the op at byte {offset}")]
    UnknownToken {
        /// The byte.
        token: u8,
        /// Where the op starts.
        offset: usize,
    },
    /// A contract trace that does not decode, or is outside the limits.
    #[error("contract trace in the op at byte {offset} is invalid: {reason}")]
    BadTrace {
        /// Where the op starts.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A storage proof that does not decode, or is outside the limits.
    #[error("storage proof in the op at byte {offset} is invalid: {reason}")]
    BadStorageProof {
        /// Where the op starts.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A `ContractTx` op whose transaction is not a deploy or a call.
    #[error(
        "the op at byte {offset} is a contract op, but its transaction is not a deploy or a call"
    )]
    NotAContractTransaction {
        /// Where the op starts.
        offset: usize,
    },
    /// A flag byte other than 0 or 1.
    #[error("flag byte {flag} in the op at byte {offset}: flags are 0 or 1")]
    BadFlag {
        /// The byte.
        flag: u8,
        /// Where the op starts.
        offset: usize,
    },
    /// A `FeeOnly` op whose transaction bytes do not decode.
    #[error("transaction in the op at byte {offset} does not decode: {source}")]
    BadTransaction {
        /// Where the op starts.
        offset: usize,
        /// The codec error.
        source: CodecError,
    },
}

impl PubdataOp {
    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        match self {
            PubdataOp::Transfer { .. } => TRANSFER_BYTES,
            PubdataOp::TransferToNew { .. } => TRANSFER_TO_NEW_BYTES,
            PubdataOp::Deposit { .. } => DEPOSIT_BYTES,
            PubdataOp::Withdraw { .. } => WITHDRAW_BYTES,
            PubdataOp::FeeOnly { tx, .. } => FEE_ONLY_FIXED_BYTES + tx.encode().len(),
            PubdataOp::ContractTx { tx, .. } => CONTRACT_TX_FIXED_BYTES + tx.encode().len(),
            PubdataOp::ContractTrace(trace) => CONTRACT_TRACE_FIXED_BYTES + trace.encode().len(),
            PubdataOp::ContractMove { .. } => CONTRACT_MOVE_BYTES,
            PubdataOp::StorageProof(proof) => STORAGE_PROOF_FIXED_BYTES + proof.encode().len(),
            PubdataOp::ContractKey { .. } => CONTRACT_KEY_BYTES,
            PubdataOp::ForcedWithdraw { .. } => FORCED_WITHDRAW_BYTES,
        }
    }

    /// Appends the op's bytes to `out`.
    ///
    /// Fails only for a `ContractTrace` outside the limits ([`ContractTrace::check`])
    /// or a `ContractTx` that is not a deploy or call, which the executor never
    /// produces.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), PubdataError> {
        match self {
            PubdataOp::Transfer {
                from,
                to,
                token,
                amount,
                fee,
                signature,
            } => {
                out.push(OP_TRANSFER);
                put_account(out, *from);
                put_account(out, *to);
                put_token_amount(out, *token, *amount);
                put_fee_signature(out, *fee, signature);
            }
            PubdataOp::TransferToNew {
                from,
                to,
                to_key,
                token,
                amount,
                fee,
                signature,
            } => {
                out.push(OP_TRANSFER_TO_NEW);
                put_account(out, *from);
                put_account(out, *to);
                out.extend_from_slice(&to_key.0);
                put_token_amount(out, *token, *amount);
                put_fee_signature(out, *fee, signature);
            }
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => {
                out.push(OP_DEPOSIT);
                out.extend_from_slice(&queue_index.to_be_bytes());
                put_account(out, *to);
                out.extend_from_slice(&to_key.0);
                put_token_amount(out, *token, *amount);
            }
            PubdataOp::Withdraw {
                from,
                to,
                token,
                amount,
                fee,
                signature,
            } => {
                out.push(OP_WITHDRAW);
                put_account(out, *from);
                out.extend_from_slice(&to.0);
                put_token_amount(out, *token, *amount);
                put_fee_signature(out, *fee, signature);
            }
            PubdataOp::FeeOnly {
                fee_paid,
                tx,
                signature,
            } => {
                let tx_bytes = tx.encode();
                out.push(OP_FEE_ONLY);
                out.extend_from_slice(&fee_paid.to_be_bytes());
                // A transaction is at most SIGNED_TX_BYTES_MAX, far below u32::MAX.
                out.extend_from_slice(&(tx_bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(&tx_bytes);
                out.extend_from_slice(&signature.0);
            }
            PubdataOp::ContractTx {
                fee_paid,
                contract,
                tx,
                signature,
            } => {
                if !tx.is_contract() {
                    return Err(PubdataError::NotAContractTransaction { offset: out.len() });
                }
                let tx_bytes = tx.encode();
                out.push(OP_CONTRACT_TX);
                out.extend_from_slice(&fee_paid.to_be_bytes());
                put_account(out, *contract);
                // A transaction is at most SIGNED_TX_BYTES_MAX, far below u32::MAX.
                out.extend_from_slice(&(tx_bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(&tx_bytes);
                out.extend_from_slice(&signature.0);
            }
            PubdataOp::ContractMove {
                from,
                to,
                token,
                amount,
            } => {
                out.push(OP_CONTRACT_MOVE);
                put_account(out, *from);
                put_account(out, *to);
                put_token_amount(out, *token, *amount);
            }
            PubdataOp::ContractTrace(trace) => {
                trace.check().map_err(|e| PubdataError::BadTrace {
                    offset: out.len(),
                    reason: e.to_string(),
                })?;
                let bytes = trace.encode();
                out.push(OP_CONTRACT_TRACE);
                // At most CONTRACT_TRACE_BYTES_MAX, far below u32::MAX.
                out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(&bytes);
            }
            PubdataOp::StorageProof(proof) => {
                proof.check().map_err(|e| PubdataError::BadStorageProof {
                    offset: out.len(),
                    reason: e.to_string(),
                })?;
                let bytes = proof.encode();
                out.push(OP_STORAGE_PROOF);
                // At most STORAGE_PROOF_BYTES_MAX, far below u32::MAX.
                out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(&bytes);
            }
            PubdataOp::ContractKey { contract, key } => {
                out.push(OP_CONTRACT_KEY);
                put_account(out, *contract);
                out.extend_from_slice(&key.0);
            }
            PubdataOp::ForcedWithdraw {
                queue_index,
                from,
                to,
                token,
                amount,
                full,
            } => {
                out.push(OP_FORCED_WITHDRAW);
                out.extend_from_slice(&queue_index.to_be_bytes());
                put_account(out, *from);
                out.extend_from_slice(&to.0);
                put_token_amount(out, *token, *amount);
                out.push(u8::from(*full));
            }
        }
        Ok(())
    }

    /// The account that signs the op and pays for it (uses a nonce), if any.
    pub fn sender(&self) -> Option<AccountId> {
        match self {
            PubdataOp::Transfer { from, .. }
            | PubdataOp::TransferToNew { from, .. }
            | PubdataOp::Withdraw { from, .. } => Some(*from),
            PubdataOp::FeeOnly { tx, .. } | PubdataOp::ContractTx { tx, .. } => Some(tx.from()),
            PubdataOp::ContractMove { from, .. } => Some(*from),
            PubdataOp::Deposit { .. }
            | PubdataOp::ContractTrace(_)
            | PubdataOp::StorageProof(_)
            | PubdataOp::ContractKey { .. }
            | PubdataOp::ForcedWithdraw { .. } => None,
        }
    }

    /// A `StorageProof` or `ContractKey`: the ops settlement's completion adds
    /// to a sequencer block's (`StorageTrees::complete`), never the executor.
    pub fn is_storage_completion(&self) -> bool {
        matches!(
            self,
            PubdataOp::StorageProof(_) | PubdataOp::ContractKey { .. }
        )
    }

    /// The account the op debits: its sender, or a forced withdrawal's account.
    /// A segment closes before an op that debits the fee account while fees are
    /// pending (the prover's `Cutter`), so this is what cutting looks at.
    pub fn debited(&self) -> Option<AccountId> {
        match self {
            PubdataOp::ForcedWithdraw { from, .. } => Some(*from),
            op => op.sender(),
        }
    }

    /// A deploy or call's transaction op (`ContractTx`, or the `FeeOnly` of a failed
    /// one): the op a `ContractTrace` follows.
    pub fn contract_tx(&self) -> Option<&Transaction> {
        match self {
            PubdataOp::ContractTx { tx, .. } => Some(tx),
            PubdataOp::FeeOnly { tx, .. } if tx.is_contract() => Some(tx),
            _ => None,
        }
    }

    /// Rebuilds the signed transaction behind a signed op, given the sender's nonce
    /// (tracked by the L1) and key (registered by earlier pubdata). `None` for ops
    /// that carry no signature (deposits, contract traces).
    pub fn signed_transaction(
        &self,
        chain_id: ChainId,
        nonce: Nonce,
        signer: PublicKey,
    ) -> Option<SignedTransaction> {
        let (tx, signature) = match self {
            PubdataOp::Transfer {
                from,
                to,
                token,
                amount,
                fee,
                signature,
            } => (
                Transaction::Transfer {
                    from: *from,
                    to: Recipient::Account(*to),
                    token: *token,
                    amount: *amount,
                    fee: *fee,
                    nonce,
                },
                *signature,
            ),
            PubdataOp::TransferToNew {
                from,
                to_key,
                token,
                amount,
                fee,
                signature,
                ..
            } => (
                Transaction::Transfer {
                    from: *from,
                    to: Recipient::NewAccount(*to_key),
                    token: *token,
                    amount: *amount,
                    fee: *fee,
                    nonce,
                },
                *signature,
            ),
            PubdataOp::Withdraw {
                from,
                to,
                token,
                amount,
                fee,
                signature,
            } => (
                Transaction::Withdraw {
                    from: *from,
                    to: *to,
                    token: *token,
                    amount: *amount,
                    fee: *fee,
                    nonce,
                },
                *signature,
            ),
            PubdataOp::FeeOnly { tx, signature, .. }
            | PubdataOp::ContractTx { tx, signature, .. } => (tx.clone(), *signature),
            PubdataOp::Deposit { .. }
            | PubdataOp::ContractTrace(_)
            | PubdataOp::ContractMove { .. }
            | PubdataOp::StorageProof(_)
            | PubdataOp::ContractKey { .. }
            | PubdataOp::ForcedWithdraw { .. } => return None,
        };
        Some(SignedTransaction {
            tx,
            chain_id,
            signer,
            signature,
        })
    }
}

/// Encodes a batch's ops.
pub fn encode_pubdata(ops: &[PubdataOp]) -> Result<Vec<u8>, PubdataError> {
    let mut out = Vec::with_capacity(ops.iter().map(PubdataOp::encoded_len).sum());
    for op in ops {
        op.encode_into(&mut out)?;
        if out.len() > PUBDATA_BYTES_MAX {
            return Err(PubdataError::Oversize {
                len: out.len(),
                max: PUBDATA_BYTES_MAX,
            });
        }
    }
    Ok(out)
}

/// Decodes a batch's pubdata into its ops.
pub fn decode_pubdata(bytes: &[u8]) -> Result<Vec<PubdataOp>, PubdataError> {
    if bytes.len() > PUBDATA_BYTES_MAX {
        return Err(PubdataError::Oversize {
            len: bytes.len(),
            max: PUBDATA_BYTES_MAX,
        });
    }
    let mut ops = Vec::new();
    let mut reader = Reader {
        bytes,
        pos: 0,
        op_start: 0,
    };
    while reader.pos < bytes.len() {
        reader.op_start = reader.pos;
        ops.push(reader.op()?);
    }
    Ok(ops)
}

fn put_account(out: &mut Vec<u8>, id: AccountId) {
    out.extend_from_slice(&id.get().to_be_bytes()[1..]);
}

fn put_token_amount(out: &mut Vec<u8>, token: TokenId, amount: Amount) {
    out.push(token.id());
    out.extend_from_slice(&amount.to_be_bytes());
}

fn put_fee_signature(out: &mut Vec<u8>, fee: Amount, signature: &Signature) {
    out.extend_from_slice(&fee.to_be_bytes());
    out.extend_from_slice(&signature.0);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    op_start: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PubdataError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(PubdataError::Truncated {
            offset: self.op_start,
        })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PubdataError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, PubdataError> {
        Ok(self.array::<1>()?[0])
    }

    fn account(&mut self) -> Result<AccountId, PubdataError> {
        let [a, b, c] = self.array::<3>()?;
        // Three bytes are always below 2^24.
        AccountId::new(u32::from_be_bytes([0, a, b, c])).map_err(|_| PubdataError::Truncated {
            offset: self.op_start,
        })
    }

    fn token(&mut self) -> Result<TokenId, PubdataError> {
        let token = self.u8()?;
        TokenId::from_id(token).ok_or(PubdataError::UnknownToken {
            token,
            offset: self.op_start,
        })
    }

    fn amount(&mut self) -> Result<Amount, PubdataError> {
        Ok(u128::from_be_bytes(self.array()?))
    }

    fn signature(&mut self) -> Result<Signature, PubdataError> {
        Ok(Signature(self.array()?))
    }

    /// A length-prefixed transaction.
    fn transaction(&mut self) -> Result<Transaction, PubdataError> {
        let tx_len = u32::from_be_bytes(self.array()?) as usize;
        let tx_bytes = self.take(tx_len)?;
        Transaction::decode(tx_bytes).map_err(|source| PubdataError::BadTransaction {
            offset: self.op_start,
            source,
        })
    }

    fn op(&mut self) -> Result<PubdataOp, PubdataError> {
        let opcode = self.u8()?;
        Ok(match opcode {
            OP_TRANSFER => PubdataOp::Transfer {
                from: self.account()?,
                to: self.account()?,
                token: self.token()?,
                amount: self.amount()?,
                fee: self.amount()?,
                signature: self.signature()?,
            },
            OP_TRANSFER_TO_NEW => PubdataOp::TransferToNew {
                from: self.account()?,
                to: self.account()?,
                to_key: PublicKey(self.array()?),
                token: self.token()?,
                amount: self.amount()?,
                fee: self.amount()?,
                signature: self.signature()?,
            },
            OP_DEPOSIT => PubdataOp::Deposit {
                queue_index: u64::from_be_bytes(self.array()?),
                to: self.account()?,
                to_key: PublicKey(self.array()?),
                token: self.token()?,
                amount: self.amount()?,
            },
            OP_WITHDRAW => PubdataOp::Withdraw {
                from: self.account()?,
                to: L1Address(self.array()?),
                token: self.token()?,
                amount: self.amount()?,
                fee: self.amount()?,
                signature: self.signature()?,
            },
            OP_FEE_ONLY => {
                let fee_paid = self.amount()?;
                let tx = self.transaction()?;
                PubdataOp::FeeOnly {
                    fee_paid,
                    tx,
                    signature: self.signature()?,
                }
            }
            OP_CONTRACT_TX => {
                let fee_paid = self.amount()?;
                let contract = self.account()?;
                let tx = self.transaction()?;
                if !tx.is_contract() {
                    return Err(PubdataError::NotAContractTransaction {
                        offset: self.op_start,
                    });
                }
                PubdataOp::ContractTx {
                    fee_paid,
                    contract,
                    tx,
                    signature: self.signature()?,
                }
            }
            OP_CONTRACT_MOVE => PubdataOp::ContractMove {
                from: self.account()?,
                to: self.account()?,
                token: self.token()?,
                amount: self.amount()?,
            },
            OP_CONTRACT_TRACE => {
                let len = u32::from_be_bytes(self.array()?) as usize;
                let offset = self.op_start;
                let bad = |reason: String| PubdataError::BadTrace { offset, reason };
                let bytes = self.take(len)?;
                let trace = ContractTrace::decode(bytes).map_err(|e| bad(e.to_string()))?;
                trace.check().map_err(|e: TraceError| bad(e.to_string()))?;
                PubdataOp::ContractTrace(Box::new(trace))
            }
            OP_STORAGE_PROOF => {
                let len = u32::from_be_bytes(self.array()?) as usize;
                let offset = self.op_start;
                let bad = |reason: String| PubdataError::BadStorageProof { offset, reason };
                let bytes = self.take(len)?;
                let proof = StorageProof::decode(bytes).map_err(|e| bad(e.to_string()))?;
                proof.check().map_err(|e| bad(e.to_string()))?;
                PubdataOp::StorageProof(Box::new(proof))
            }
            OP_CONTRACT_KEY => PubdataOp::ContractKey {
                contract: self.account()?,
                key: PublicKey(self.array()?),
            },
            OP_FORCED_WITHDRAW => PubdataOp::ForcedWithdraw {
                queue_index: u64::from_be_bytes(self.array()?),
                from: self.account()?,
                to: L1Address(self.array()?),
                token: self.token()?,
                amount: self.amount()?,
                full: match self.u8()? {
                    0 => false,
                    1 => true,
                    flag => {
                        return Err(PubdataError::BadFlag {
                            flag,
                            offset: self.op_start,
                        });
                    }
                },
            },
            opcode => {
                return Err(PubdataError::UnknownOpcode {
                    opcode,
                    offset: self.op_start,
                });
            }
        })
    }
}
