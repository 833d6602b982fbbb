//! The blocks proposed at the consensus height, kept by the [`Replica`]: the ones it
//! executed (valid), the ones it found invalid (their header hash only), and the
//! few it holds for later (a round past the lookahead, the next height).
//!
//! ## Why it is shaped like this
//!
//! A proposer signs a block for a round; only that round's proposer can make us
//! execute anything. Without further bounds a single Byzantine validator could
//! sign blocks for any of its rounds (any `u32`) and crowd out the honest
//! proposals of the height (issue 33, item 1). So:
//!
//! - blocks are accepted only for rounds up to [`ROUND_LOOKAHEAD`] past ours (the
//!   lookahead Malachite applies to votes and proposals); a later round's block is
//!   parked, one per proposer, and looked at again when our round gets near;
//! - each round holds at most [`BLOCKS_PER_ROUND_MAX`] distinct blocks, and a round
//!   has exactly one proposer, so one proposer's blocks never evict or deny
//!   another's;
//! - an invalid verdict costs one hash; a block executed costs its state writes.
//!   What one height holds is therefore bounded by the rounds the height reaches,
//!   which only timeouts (or a third of the power) advance.
//! - the next height's blocks are kept per proposer ([`NEXT_PER_PROPOSER_MAX`]),
//!   after their proposer and signature checked out.
//!
//! [`Replica`]: super::Replica

use std::collections::{HashMap, HashSet};

use ghostplane_primitives::{Hash32, PublicKey};
use malachitebft_core_consensus::MAX_FUTURE_ROUND_LOOKAHEAD;

use super::wire::BlockMsg;
use crate::node::block::Prepared;

/// Most distinct blocks kept for one round (an honest proposer sends one; a
/// second is evidence of a proposer that equivocates, and still cheap).
pub const BLOCKS_PER_ROUND_MAX: usize = 2;
/// Rounds past ours whose blocks are taken now (Malachite's own lookahead for
/// votes and proposals).
pub const ROUND_LOOKAHEAD: u32 = MAX_FUTURE_ROUND_LOOKAHEAD;
/// Blocks of the next height kept per proposer until we get there.
pub const NEXT_PER_PROPOSER_MAX: usize = 2;

/// A block we executed: the message (to send again) and its result.
pub struct Executed {
    /// The block as proposed.
    pub msg: BlockMsg,
    /// Its execution, ready to commit.
    pub prepared: Prepared,
}

/// What we know of a block by its header hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Executed: it gives the header.
    Valid,
    /// Its transactions matched the header but did not execute to it.
    Invalid,
}

/// Why a block was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The round already holds [`BLOCKS_PER_ROUND_MAX`] distinct blocks.
    RoundFull,
    /// The next height already holds [`NEXT_PER_PROPOSER_MAX`] of this
    /// proposer's blocks.
    NextFull,
}

impl Refusal {
    /// The reason counted in `ghostd_consensus_dropped_total`.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::RoundFull => "too_many_blocks_in_round",
            Refusal::NextFull => "too_many_next_height_blocks",
        }
    }
}

/// The blocks of one height (see the module docs).
#[derive(Default)]
pub struct Proposals {
    executed: HashMap<Hash32, Executed>,
    invalid: HashSet<Hash32>,
    /// Distinct header hashes seen per round (valid or invalid).
    rounds: HashMap<u32, Vec<Hash32>>,
    /// Blocks for a round past the lookahead: the nearest such round, per proposer.
    parked: HashMap<PublicKey, BlockMsg>,
    /// Blocks for the next height, per proposer.
    next: HashMap<PublicKey, Vec<BlockMsg>>,
}

impl Proposals {
    /// What we know of `hash`, if anything.
    pub fn verdict(&self, hash: &Hash32) -> Option<Verdict> {
        if self.executed.contains_key(hash) {
            Some(Verdict::Valid)
        } else if self.invalid.contains(hash) {
            Some(Verdict::Invalid)
        } else {
            None
        }
    }

    /// Whether `round` has room for one more distinct block.
    pub fn has_room(&self, round: u32) -> bool {
        self.rounds
            .get(&round)
            .is_none_or(|seen| seen.len() < BLOCKS_PER_ROUND_MAX)
    }

    /// Records a block we executed (ours included: it takes its round's room like
    /// any other).
    pub fn insert_valid(&mut self, msg: BlockMsg, prepared: Prepared) {
        let hash = msg.header.hash();
        self.note(msg.round, hash);
        self.executed.insert(hash, Executed { msg, prepared });
    }

    /// Records a block of `round` whose execution does not give its header.
    pub fn insert_invalid(&mut self, round: u32, hash: Hash32) {
        self.note(round, hash);
        self.invalid.insert(hash);
    }

    fn note(&mut self, round: u32, hash: Hash32) {
        let seen = self.rounds.entry(round).or_default();
        if !seen.contains(&hash) {
            seen.push(hash);
        }
    }

    /// A block we executed.
    pub fn executed(&self, hash: &Hash32) -> Option<&Executed> {
        self.executed.get(hash)
    }

    /// Holds a block whose round is past the lookahead: the nearest round per
    /// proposer wins.
    pub fn park(&mut self, msg: BlockMsg) {
        match self.parked.get(&msg.proposer) {
            Some(kept) if kept.round <= msg.round => {}
            _ => {
                self.parked.insert(msg.proposer, msg);
            }
        }
    }

    /// The parked blocks whose round is now at most `round_max`.
    pub fn unpark(&mut self, round_max: u32) -> Vec<BlockMsg> {
        let due: Vec<PublicKey> = self
            .parked
            .iter()
            .filter(|(_, msg)| msg.round <= round_max)
            .map(|(proposer, _)| *proposer)
            .collect();
        due.iter()
            .filter_map(|proposer| self.parked.remove(proposer))
            .collect()
    }

    /// Holds a block of the next height (its proposer and signature checked).
    pub fn hold_next(&mut self, msg: BlockMsg) -> Result<(), Refusal> {
        let kept = self.next.entry(msg.proposer).or_default();
        if kept
            .iter()
            .any(|k| k.header.hash() == msg.header.hash() && k.round == msg.round)
        {
            return Ok(());
        }
        if kept.len() >= NEXT_PER_PROPOSER_MAX {
            return Err(Refusal::NextFull);
        }
        kept.push(msg);
        Ok(())
    }

    /// Moves to the next height: forgets this one and hands back the blocks held
    /// for it.
    pub fn advance(&mut self) -> Vec<BlockMsg> {
        let next = std::mem::take(&mut self.next);
        *self = Self::default();
        next.into_values().flatten().collect()
    }
}
