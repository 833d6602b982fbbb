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
//! | [`PubdataOp::ContractTrace`] | `0x07` | trace_len(4) trace(trace_len) | 5 + trace_len |
//!
//! `FeeOnly` carries a transaction whose only effect on the account tree is its fee
//! and nonce: a contract deploy or call, or a native transaction that failed. Its
//! `tx` is the transaction's canonical encoding. Every `FeeOnly` of a deploy or a
//! call is followed by exactly one `ContractTrace` op: what its execution read,
//! wrote, emitted and its outcome ([`ContractTrace`], canonical borsh encoding),
//! which every L1 validator re-executes against ([`crate::trace`]).

use crate::codec::{Codec, CodecError};
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
/// Encoded size of a `ContractTrace` op without its trace.
pub const CONTRACT_TRACE_FIXED_BYTES: usize = 5;

const OP_TRANSFER: u8 = 0x01;
const OP_TRANSFER_TO_NEW: u8 = 0x02;
const OP_DEPOSIT: u8 = 0x03;
const OP_WITHDRAW: u8 = 0x04;
const OP_FEE_ONLY: u8 = 0x05;
const OP_CONTRACT_TRACE: u8 = 0x07;

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
    /// What the deploy or call in the `FeeOnly` op before it did (re-executed by the
    /// L1).
    ContractTrace(Box<ContractTrace>),
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
            PubdataOp::ContractTrace(trace) => CONTRACT_TRACE_FIXED_BYTES + trace.encode().len(),
        }
    }

    /// Appends the op's bytes to `out`.
    ///
    /// Fails only for a `ContractTrace` outside the limits ([`ContractTrace::check`]),
    /// which the executor never produces.
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
        }
        Ok(())
    }

    /// The account that signs the op and pays for it (uses a nonce), if any.
    pub fn sender(&self) -> Option<AccountId> {
        match self {
            PubdataOp::Transfer { from, .. }
            | PubdataOp::TransferToNew { from, .. }
            | PubdataOp::Withdraw { from, .. } => Some(*from),
            PubdataOp::FeeOnly { tx, .. } => Some(tx.from()),
            PubdataOp::Deposit { .. } | PubdataOp::ContractTrace(_) => None,
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
            PubdataOp::FeeOnly { tx, signature, .. } => (tx.clone(), *signature),
            PubdataOp::Deposit { .. } | PubdataOp::ContractTrace(_) => return None,
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
                let tx_len = u32::from_be_bytes(self.array()?) as usize;
                let tx_bytes = self.take(tx_len)?;
                let tx = Transaction::decode(tx_bytes).map_err(|source| {
                    PubdataError::BadTransaction {
                        offset: self.op_start,
                        source,
                    }
                })?;
                PubdataOp::FeeOnly {
                    fee_paid,
                    tx,
                    signature: self.signature()?,
                }
            }
            OP_CONTRACT_TRACE => {
                let len = u32::from_be_bytes(self.array()?) as usize;
                let offset = self.op_start;
                let bad = |reason: String| PubdataError::BadTrace { offset, reason };
                let bytes = self.take(len)?;
                let trace = ContractTrace::decode(bytes).map_err(|e| bad(e.to_string()))?;
                trace.check().map_err(|e: TraceError| bad(e.to_string()))?;
                PubdataOp::ContractTrace(Box::new(trace))
            }
            opcode => {
                return Err(PubdataError::UnknownOpcode {
                    opcode,
                    offset: self.op_start,
                });
            }
        })
    }
}
