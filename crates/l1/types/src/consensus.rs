//! How blocks become final: the consensus mode named in the genesis, the validator
//! set, and the commit certificate stored with every BFT block.
//!
//! A commit certificate is the set of precommit signatures (more than two thirds of
//! the voting power) for one block hash at one height and round. Anyone holding the
//! genesis can check it with [`verify_commit`]; a syncing node checks every block's
//! certificate before it applies the block.

use std::collections::HashSet;

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::keys::verify;
use ghostplane_primitives::{Codec, Hash32, PublicKey, Signature};

/// Domain tag of a signed consensus vote.
pub const VOTE_DOMAIN: &[u8] = b"ghostd/vote/v1";
/// Domain tag of a signed consensus proposal.
pub const PROPOSAL_DOMAIN: &[u8] = b"ghostd/proposal/v1";
/// Domain tag of a proposer's signature on the block it sends beside its proposal.
pub const BLOCK_DOMAIN: &[u8] = b"ghostd/block/v1";
/// Most validators a genesis may list.
pub const VALIDATORS_MAX: usize = 128;

/// How the chain decides its blocks.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ConsensusMode {
    /// One node seals every block on its own clock (the devnet).
    Solo,
    /// A validator set runs Tendermint (Malachite); a block is final when decided.
    Bft(BftParams),
}

/// The validator set and the round timeouts of a BFT chain.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BftParams {
    /// Validators, in the order the proposer rotation follows.
    pub validators: Vec<GenesisValidator>,
    /// Round timeouts.
    pub timeouts: Timeouts,
}

/// One validator of the genesis set.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GenesisValidator {
    /// Its ed25519 key: it signs votes and proposals.
    pub key: PublicKey,
    /// Its voting power (> 0).
    pub power: u64,
    /// Where its peers reach it (QUIC, `host:port`), if it says: every node dials
    /// the validators listed before it (full nodes dial all), besides `--peers`.
    pub p2p: Option<String>,
}

/// Round timeouts, in milliseconds. Each later round waits `delta_ms` longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Timeouts {
    /// How long to wait for the round's proposal.
    pub propose_ms: u64,
    /// How long to wait for more prevotes after seeing 2/3 of them for anything.
    pub prevote_ms: u64,
    /// How long to wait for more precommits after seeing 2/3 of them for anything.
    pub precommit_ms: u64,
    /// Added per round to each of the above.
    pub delta_ms: u64,
    /// The block time: a proposer builds its block no sooner than this after its
    /// parent's timestamp (must stay well under `propose_ms`).
    pub commit_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            propose_ms: 1_000,
            prevote_ms: 500,
            precommit_ms: 500,
            delta_ms: 250,
            commit_ms: 200,
        }
    }
}

impl BftParams {
    /// Checks the set: non-empty, at most [`VALIDATORS_MAX`], positive powers, no
    /// duplicate key, total power without overflow.
    pub fn validate(&self) -> Result<(), String> {
        if self.validators.is_empty() {
            return Err("a BFT genesis needs at least one validator".into());
        }
        if self.validators.len() > VALIDATORS_MAX {
            return Err(format!(
                "{} validators; at most {VALIDATORS_MAX}",
                self.validators.len()
            ));
        }
        let mut seen = HashSet::new();
        let mut total: u64 = 0;
        for v in &self.validators {
            if v.power == 0 {
                return Err(format!("validator {} has no voting power", v.key));
            }
            if !seen.insert(v.key) {
                return Err(format!("validator {} is listed twice", v.key));
            }
            total = total
                .checked_add(v.power)
                .ok_or("the total voting power overflows")?;
        }
        Ok(())
    }

    /// Total voting power.
    pub fn total_power(&self) -> u64 {
        self.validators.iter().map(|v| v.power).sum()
    }

    /// The power of `key`, if it is a validator.
    pub fn power_of(&self, key: &PublicKey) -> Option<u64> {
        self.validators
            .iter()
            .find(|v| v.key == *key)
            .map(|v| v.power)
    }
}

/// What a vote is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum VoteKind {
    /// First round of voting.
    Prevote,
    /// Second round of voting; 2/3 of these decide.
    Precommit,
}

/// The bytes a validator signs for a vote. `block` is `None` for a vote for nil.
pub fn vote_signing_bytes(
    chain_id: u64,
    kind: VoteKind,
    height: u64,
    round: u32,
    block: Option<Hash32>,
) -> Vec<u8> {
    let mut out = VOTE_DOMAIN.to_vec();
    out.extend_from_slice(&chain_id.to_be_bytes());
    out.push(match kind {
        VoteKind::Prevote => 0,
        VoteKind::Precommit => 1,
    });
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    match block {
        Some(hash) => {
            out.push(1);
            out.extend_from_slice(&hash.0);
        }
        None => out.push(0),
    }
    out
}

/// The bytes a proposer signs for a proposal (`pol_round` is -1 for none).
pub fn proposal_signing_bytes(
    chain_id: u64,
    height: u64,
    round: u32,
    block: Hash32,
    pol_round: i64,
) -> Vec<u8> {
    let mut out = PROPOSAL_DOMAIN.to_vec();
    out.extend_from_slice(&chain_id.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    out.extend_from_slice(&block.0);
    out.extend_from_slice(&pol_round.to_be_bytes());
    out
}

/// The bytes a proposer signs for the block it sends at `height`, `round`
/// (`pol_round` -1 for none): peers check it before they execute the block.
pub fn block_signing_bytes(
    chain_id: u64,
    height: u64,
    round: u32,
    pol_round: i64,
    block: Hash32,
) -> Vec<u8> {
    let mut out = BLOCK_DOMAIN.to_vec();
    out.extend_from_slice(&chain_id.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    out.extend_from_slice(&pol_round.to_be_bytes());
    out.extend_from_slice(&block.0);
    out
}

/// The commit certificate of a BFT block: precommits of more than 2/3 of the
/// voting power for `block` at `height` and `round`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Commit {
    /// Block height.
    pub height: u64,
    /// The round that decided it.
    pub round: u32,
    /// The decided block's header hash.
    pub block: Hash32,
    /// Signers and their precommit signatures.
    pub signatures: Vec<(PublicKey, Signature)>,
}

impl Codec for Commit {
    const ENCODED_BYTES_MAX: usize = 64 + VALIDATORS_MAX * 100;
    const TYPE_NAME: &'static str = "commit certificate";
}

/// Why a commit certificate does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// It certifies another height.
    #[error("the certificate is for height {got}, not {expected}")]
    WrongHeight {
        /// Height asked for.
        expected: u64,
        /// Height it names.
        got: u64,
    },
    /// It certifies another block.
    #[error("the certificate is for block {got}, not {expected}")]
    WrongBlock {
        /// The block in hand.
        expected: Hash32,
        /// The block it names.
        got: Hash32,
    },
    /// A signer is not a validator.
    #[error("{0} signed the certificate but is not a validator")]
    UnknownSigner(PublicKey),
    /// A signer appears twice.
    #[error("{0} signed the certificate twice")]
    DuplicateSigner(PublicKey),
    /// A signature does not verify.
    #[error("the precommit signature of {0} does not verify")]
    BadSignature(PublicKey),
    /// Not enough power signed.
    #[error("only {signed} of {total} voting power signed (more than two thirds needed)")]
    NotEnoughPower {
        /// Power that signed.
        signed: u64,
        /// Total power.
        total: u64,
    },
}

/// Checks that `commit` certifies `block` at `height` under `params`.
pub fn verify_commit(
    chain_id: u64,
    params: &BftParams,
    height: u64,
    block: Hash32,
    commit: &Commit,
) -> Result<(), CommitError> {
    if commit.height != height {
        return Err(CommitError::WrongHeight {
            expected: height,
            got: commit.height,
        });
    }
    if commit.block != block {
        return Err(CommitError::WrongBlock {
            expected: block,
            got: commit.block,
        });
    }
    let message = vote_signing_bytes(
        chain_id,
        VoteKind::Precommit,
        height,
        commit.round,
        Some(block),
    );
    let mut seen = HashSet::new();
    let mut signed: u64 = 0;
    for (key, signature) in &commit.signatures {
        let power = params
            .power_of(key)
            .ok_or(CommitError::UnknownSigner(*key))?;
        if !seen.insert(*key) {
            return Err(CommitError::DuplicateSigner(*key));
        }
        verify(key, &message, signature).map_err(|_| CommitError::BadSignature(*key))?;
        signed = signed.saturating_add(power);
    }
    let total = params.total_power();
    if u128::from(signed) * 3 <= u128::from(total) * 2 {
        return Err(CommitError::NotEnoughPower { signed, total });
    }
    Ok(())
}

/// A node's view of consensus (`consensus_status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusStatus {
    /// "solo" or "bft".
    pub mode: String,
    /// Head (last committed) height.
    pub height: u64,
    /// The height consensus runs at (validators).
    pub consensus_height: Option<u64>,
    /// The round consensus runs at (validators; -1 before the first).
    pub round: Option<i64>,
    /// Our validator key, if we are one.
    pub validator: Option<String>,
    /// Signers of the head's commit certificate.
    pub last_commit_signers: Vec<String>,
    /// Connected peers.
    pub peers: usize,
    /// Whether a peer is more than one block ahead.
    pub syncing: bool,
    /// Highest head a peer announced.
    pub best_peer_height: u64,
    /// Blocks applied through sync since start.
    pub synced_blocks: u64,
    /// Bytes sent to peers since start.
    pub bytes_sent: u64,
    /// Bytes received from peers since start.
    pub bytes_received: u64,
    /// Messages dropped (bad, oversize, over a bound) since start.
    pub dropped: u64,
    /// Equivocation evidence records stored.
    pub evidence: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghostplane_primitives::keys::Keypair;

    fn set(n: u32) -> (Vec<Keypair>, BftParams) {
        let keys: Vec<_> = (0..n).map(|i| Keypair::dev(100 + i)).collect();
        let params = BftParams {
            validators: keys
                .iter()
                .map(|k| GenesisValidator {
                    key: k.public_key(),
                    power: 1,
                    p2p: None,
                })
                .collect(),
            timeouts: Timeouts::default(),
        };
        (keys, params)
    }

    fn commit(keys: &[Keypair], block: Hash32) -> Commit {
        let message = vote_signing_bytes(7, VoteKind::Precommit, 5, 1, Some(block));
        Commit {
            height: 5,
            round: 1,
            block,
            signatures: keys
                .iter()
                .map(|k| (k.public_key(), k.sign_bytes(&message)))
                .collect(),
        }
    }

    #[test]
    fn three_of_four_certify_and_two_do_not() {
        let (keys, params) = set(4);
        let block = Hash32([9; 32]);
        assert_eq!(
            verify_commit(7, &params, 5, block, &commit(&keys[..3], block)),
            Ok(())
        );
        assert_eq!(
            verify_commit(7, &params, 5, block, &commit(&keys[..2], block)),
            Err(CommitError::NotEnoughPower {
                signed: 2,
                total: 4
            })
        );
    }

    #[test]
    fn forged_duplicated_foreign_and_misplaced_certificates_fail() {
        let (keys, params) = set(4);
        let block = Hash32([9; 32]);
        let mut dup = commit(&keys[..2], block);
        dup.signatures.push(dup.signatures[0]);
        assert_eq!(
            verify_commit(7, &params, 5, block, &dup),
            Err(CommitError::DuplicateSigner(keys[0].public_key()))
        );
        let stranger = Keypair::dev(999);
        let mut foreign = commit(&keys[..3], block);
        foreign.signatures[0].0 = stranger.public_key();
        assert_eq!(
            verify_commit(7, &params, 5, block, &foreign),
            Err(CommitError::UnknownSigner(stranger.public_key()))
        );
        let mut forged = commit(&keys[..3], block);
        forged.signatures[1].1 = forged.signatures[0].1;
        assert_eq!(
            verify_commit(7, &params, 5, block, &forged),
            Err(CommitError::BadSignature(keys[1].public_key()))
        );
        let other = Hash32([8; 32]);
        assert!(matches!(
            verify_commit(7, &params, 5, other, &commit(&keys[..3], block)),
            Err(CommitError::WrongBlock { .. })
        ));
        assert!(matches!(
            verify_commit(7, &params, 6, block, &commit(&keys[..3], block)),
            Err(CommitError::WrongHeight { .. })
        ));
        // Signed for another chain.
        assert!(matches!(
            verify_commit(8, &params, 5, block, &commit(&keys[..3], block)),
            Err(CommitError::BadSignature(_))
        ));
    }
}
