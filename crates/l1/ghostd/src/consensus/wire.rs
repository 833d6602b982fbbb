//! What validators and full nodes send each other (borsh, one message per frame),
//! the write-ahead log's entries, and their conversions to Malachite's types.
//!
//! Every consensus message is signed by its validator over the bytes of
//! `ghostd_types::consensus::{vote,proposal}_signing_bytes` (domain-tagged, chain
//! id first), so a message signed for one chain or kind cannot be replayed as
//! another.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostd_types::consensus::{Commit, VoteKind, proposal_signing_bytes, vote_signing_bytes};
use ghostplane_primitives::{Hash32, PublicKey, Signature};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue};
use malachitebft_core_types::{
    NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType,
    RoundSignature, SignedProposal, SignedVote, Validity, VoteType,
};

use super::context::{Addr, BlockId, Ctx, Height, Proposal, Sig, Vote};
use crate::node::StoredBlock;
use crate::types::{L1_TX_BYTES_MAX, L1Header, SignedL1Transaction};

/// Largest frame a peer may send: a full block of maximum transactions, or a page
/// of synced blocks.
pub const FRAME_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Most transactions in one gossip message.
pub const GOSSIP_TXS_MAX: usize = 4096;
/// Most blocks in one sync response.
pub const SYNC_BLOCKS_MAX: u64 = 64;
/// Most votes a certificate message may carry.
pub const CERT_VOTES_MAX: usize = ghostd_types::consensus::VALIDATORS_MAX;

/// A signed vote.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireVote {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Block, or nil.
    pub block: Option<Hash32>,
    /// Voter.
    pub validator: PublicKey,
    /// Signature over [`vote_signing_bytes`].
    pub signature: Signature,
}

/// A signed proposal.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireProposal {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Proposed block.
    pub block: Hash32,
    /// Proof-of-lock round, -1 for none.
    pub pol_round: i64,
    /// Proposer.
    pub proposer: PublicKey,
    /// Signature over [`proposal_signing_bytes`].
    pub signature: Signature,
}

/// A block proposed at a height and round, with its transactions: what a validator
/// executes before it votes for the block's id.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockMsg {
    /// Round it is proposed in.
    pub round: u32,
    /// Proof-of-lock round, -1 for none.
    pub pol_round: i64,
    /// The proposer.
    pub proposer: PublicKey,
    /// The header (its hash is the value consensus runs on).
    pub header: L1Header,
    /// The transactions, in order.
    pub transactions: Vec<SignedL1Transaction>,
    /// The proposer's signature over `block_signing_bytes` (round, proof-of-lock
    /// round, header hash): checked before anyone executes the block.
    pub signature: Signature,
}

impl BlockMsg {
    /// The bytes its proposer signs.
    pub fn signing_bytes(&self, chain_id: u64) -> Vec<u8> {
        ghostd_types::consensus::block_signing_bytes(
            chain_id,
            self.header.number,
            self.round,
            self.pol_round,
            self.header.hash(),
        )
    }
}

/// A certificate of votes (polka: 2/3 prevotes for a block; round certificate:
/// 2/3 precommits for anything, or 1/3 votes of a later round).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct WireCertificate {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// 0 = polka, 1 = round certificate (precommit), 2 = round certificate (skip).
    pub kind: u8,
    /// The votes, with their signatures.
    pub votes: Vec<WireVote>,
}

/// One message between nodes.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub enum NetMsg {
    /// A consensus vote.
    Vote(WireVote),
    /// A consensus proposal.
    Proposal(WireProposal),
    /// A proposed block's contents.
    Block(Box<BlockMsg>),
    /// A vote certificate (liveness).
    Certificate(WireCertificate),
    /// Transactions a node admitted, for the proposers' mempools.
    Transactions(Vec<SignedL1Transaction>),
    /// "My head is `height`." Sent on connect and after every commit.
    Status {
        /// Head height.
        height: u64,
    },
    /// "Send me decided blocks from `from`."
    SyncRequest {
        /// First height wanted.
        from: u64,
    },
    /// Decided blocks with their commit certificates, in height order.
    SyncBlocks(Vec<(StoredBlock, Commit)>),
}

impl NetMsg {
    /// A short name for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            NetMsg::Vote(_) => "vote",
            NetMsg::Proposal(_) => "proposal",
            NetMsg::Block(_) => "block",
            NetMsg::Certificate(_) => "certificate",
            NetMsg::Transactions(_) => "transactions",
            NetMsg::Status { .. } => "status",
            NetMsg::SyncRequest { .. } => "sync_request",
            NetMsg::SyncBlocks(_) => "sync_blocks",
        }
    }

    /// Checks the counts a well-formed message stays within.
    pub fn within_bounds(&self) -> bool {
        match self {
            NetMsg::Block(b) => {
                b.transactions.len() <= FRAME_BYTES_MAX / 64
                    && b.transactions.iter().all(|t| {
                        borsh::to_vec(t).map(|v| v.len()).unwrap_or(usize::MAX) <= L1_TX_BYTES_MAX
                    })
            }
            NetMsg::Certificate(c) => c.votes.len() <= CERT_VOTES_MAX,
            NetMsg::Transactions(t) => t.len() <= GOSSIP_TXS_MAX,
            NetMsg::SyncBlocks(b) => b.len() as u64 <= SYNC_BLOCKS_MAX,
            _ => true,
        }
    }
}

/// A write-ahead-log entry: the consensus inputs Malachite asks to persist.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub enum WalEntry {
    /// A vote (ours or a peer's).
    Vote(WireVote),
    /// A proposal.
    Proposal(WireProposal),
    /// A polka certificate.
    Polka(WireCertificate),
    /// A round timeout that fired (it may have made us vote nil).
    Timeout {
        /// 0 = propose, 1 = prevote, 2 = precommit.
        kind: u8,
        /// Round.
        round: u32,
    },
    /// A block id with our verdict on it.
    Value {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Valid round, -1 for none.
        valid_round: i64,
        /// Proposer.
        proposer: PublicKey,
        /// Block id.
        block: Hash32,
        /// Whether it executed.
        valid: bool,
    },
}

pub(crate) fn round_of(r: i64) -> Round {
    u32::try_from(r).map(Round::new).unwrap_or(Round::Nil)
}

fn round_u32(r: Round) -> u32 {
    r.as_u32().unwrap_or(0)
}

fn kind_of(t: VoteType) -> VoteKind {
    match t {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

fn type_of(k: VoteKind) -> VoteType {
    match k {
        VoteKind::Prevote => VoteType::Prevote,
        VoteKind::Precommit => VoteType::Precommit,
    }
}

fn nil_or(block: Option<Hash32>) -> NilOrVal<Hash32> {
    match block {
        Some(h) => NilOrVal::Val(h),
        None => NilOrVal::Nil,
    }
}

fn option_of(v: &NilOrVal<Hash32>) -> Option<Hash32> {
    match v {
        NilOrVal::Val(h) => Some(*h),
        NilOrVal::Nil => None,
    }
}

/// The bytes signed for `vote`.
pub fn vote_bytes(chain_id: u64, vote: &Vote) -> Vec<u8> {
    vote_signing_bytes(
        chain_id,
        kind_of(vote.kind),
        vote.height.0,
        round_u32(vote.round),
        option_of(&vote.value),
    )
}

/// The bytes signed for `proposal`.
pub fn proposal_bytes(chain_id: u64, p: &Proposal) -> Vec<u8> {
    proposal_signing_bytes(
        chain_id,
        p.height.0,
        round_u32(p.round),
        p.value.0,
        p.pol_round.as_i64(),
    )
}

impl WireVote {
    /// From Malachite's form.
    pub fn from_signed(v: &SignedVote<Ctx>) -> Self {
        Self {
            kind: kind_of(v.message.kind),
            height: v.message.height.0,
            round: round_u32(v.message.round),
            block: option_of(&v.message.value),
            validator: v.message.validator.0,
            signature: Signature(v.signature.0),
        }
    }

    /// To Malachite's form (the signature is checked by consensus, not here).
    pub fn to_signed(&self) -> SignedVote<Ctx> {
        SignedVote::new(
            Vote {
                kind: type_of(self.kind),
                height: Height(self.height),
                round: Round::new(self.round),
                value: nil_or(self.block),
                validator: Addr(self.validator),
            },
            Sig(self.signature.0),
        )
    }
}

impl WireProposal {
    /// From Malachite's form.
    pub fn from_signed(p: &SignedProposal<Ctx>) -> Self {
        Self {
            height: p.message.height.0,
            round: round_u32(p.message.round),
            block: p.message.value.0,
            pol_round: p.message.pol_round.as_i64(),
            proposer: p.message.proposer.0,
            signature: Signature(p.signature.0),
        }
    }

    /// To Malachite's form.
    pub fn to_signed(&self) -> SignedProposal<Ctx> {
        SignedProposal::new(
            Proposal {
                height: Height(self.height),
                round: Round::new(self.round),
                value: BlockId(self.block),
                pol_round: round_of(self.pol_round),
                proposer: Addr(self.proposer),
            },
            Sig(self.signature.0),
        )
    }
}

impl WireCertificate {
    /// From a liveness message (a lone vote is sent as a [`NetMsg::Vote`]).
    pub fn from_polka(c: &PolkaCertificate<Ctx>) -> Self {
        Self {
            height: c.height.0,
            round: round_u32(c.round),
            kind: 0,
            votes: c
                .polka_signatures
                .iter()
                .map(|s| WireVote {
                    kind: VoteKind::Prevote,
                    height: c.height.0,
                    round: round_u32(c.round),
                    block: Some(c.value_id),
                    validator: s.address.0,
                    signature: Signature(s.signature.0),
                })
                .collect(),
        }
    }

    /// From a round certificate.
    pub fn from_round(c: &RoundCertificate<Ctx>) -> Self {
        Self {
            height: c.height.0,
            round: round_u32(c.round),
            kind: match c.cert_type {
                RoundCertificateType::Precommit => 1,
                RoundCertificateType::Skip => 2,
            },
            votes: c
                .round_signatures
                .iter()
                .map(|s| WireVote {
                    kind: kind_of(s.vote_type),
                    height: c.height.0,
                    round: round_u32(c.round),
                    block: option_of(&s.value_id),
                    validator: s.address.0,
                    signature: Signature(s.signature.0),
                })
                .collect(),
        }
    }

    /// To Malachite's liveness message; `None` if the kind is unknown or a polka
    /// names no single block.
    pub fn to_liveness(&self) -> Option<LivenessMsg<Ctx>> {
        match self.kind {
            0 => {
                let block = self.votes.first().and_then(|v| v.block)?;
                Some(LivenessMsg::PolkaCertificate(PolkaCertificate {
                    height: Height(self.height),
                    round: Round::new(self.round),
                    value_id: block,
                    polka_signatures: self
                        .votes
                        .iter()
                        .filter(|v| v.block == Some(block))
                        .map(|v| PolkaSignature::new(Addr(v.validator), Sig(v.signature.0)))
                        .collect(),
                }))
            }
            1 | 2 => Some(LivenessMsg::SkipRoundCertificate(RoundCertificate {
                height: Height(self.height),
                round: Round::new(self.round),
                cert_type: if self.kind == 1 {
                    RoundCertificateType::Precommit
                } else {
                    RoundCertificateType::Skip
                },
                round_signatures: self
                    .votes
                    .iter()
                    .map(|v| {
                        RoundSignature::new(
                            type_of(v.kind),
                            nil_or(v.block),
                            Addr(v.validator),
                            Sig(v.signature.0),
                        )
                    })
                    .collect(),
            })),
            _ => None,
        }
    }
}

impl WalEntry {
    /// The entry for a value verdict.
    pub fn from_value(v: &ProposedValue<Ctx>) -> Self {
        WalEntry::Value {
            height: v.height.0,
            round: round_u32(v.round),
            valid_round: v.valid_round.as_i64(),
            proposer: v.proposer.0,
            block: v.value.0,
            valid: v.validity == Validity::Valid,
        }
    }

    /// Back to the proposed value.
    pub fn to_value(&self) -> Option<ProposedValue<Ctx>> {
        match self {
            WalEntry::Value {
                height,
                round,
                valid_round,
                proposer,
                block,
                valid,
            } => Some(ProposedValue {
                height: Height(*height),
                round: Round::new(*round),
                valid_round: round_of(*valid_round),
                proposer: Addr(*proposer),
                value: BlockId(*block),
                validity: if *valid {
                    Validity::Valid
                } else {
                    Validity::Invalid
                },
            }),
            _ => None,
        }
    }
}
