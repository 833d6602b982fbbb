//! A synchronous driver of Malachite's consensus state machine
//! (`malachitebft-core-consensus`): it answers the machine's effects it can answer
//! at once (signing, signature and certificate checks) and turns the rest into
//! [`Action`]s for its owner (send, schedule a timeout, build a block, commit a
//! decision, persist a write-ahead-log entry).
//!
//! It owns no clock, socket or disk, so the same code runs in a validator process
//! and in the seeded simulation.

// The certificate checks answer with Malachite's `CertificateError` (its resume
// type), however large.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use ghostd_types::consensus::{BftParams, Commit};
use ghostplane_primitives::keys::{Keypair, verify};
use ghostplane_primitives::{Hash32, PublicKey, Signature};
use malachitebft_core_consensus::{
    ConsensusMsg, Effect, Input, LivenessMsg, Params, Resumable, Resume, SignedConsensusMsg, State,
    ValuePayload, process,
};
use malachitebft_core_types::{
    CertificateError, CommitCertificate, NilOrVal, PolkaCertificate, Round, RoundCertificate,
    RoundCertificateType, SignedMessage, Timeout, TimeoutKind, Timeouts as _, ValidatorSet as _,
    VoteExtensionPolicy, VoteType,
};
use malachitebft_metrics::Metrics;

use super::context::{Addr, Ctx, Height, RoundTimeouts, Sig, ValidatorSet, Vote};
use super::wire::{
    NetMsg, WalEntry, WireCertificate, WireProposal, WireVote, proposal_bytes, vote_bytes,
};

/// Most consensus inputs buffered per later height (Malachite's queue; at least
/// 64 per validator).
pub const INPUT_QUEUE_MAX: usize = 1024;
/// Most later heights with buffered inputs.
pub const INPUT_HEIGHTS_MAX: usize = 4;

/// What the engine asks its owner to do, in order.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send to every peer.
    Broadcast(NetMsg),
    /// Fire `Timeout` after the duration (at the current height).
    Schedule(Timeout, Duration),
    /// Forget a scheduled timeout.
    Cancel(Timeout),
    /// Forget every scheduled timeout.
    CancelAll,
    /// We propose at `height`, `round`: build a block and call [`Engine::propose`].
    BuildBlock {
        /// Height.
        height: u64,
        /// Round.
        round: Round,
    },
    /// Send the block `block` again, as proposed at `round` with `valid_round`.
    Restream {
        /// Round.
        round: Round,
        /// Its proof-of-lock round.
        valid_round: Round,
        /// Block id.
        block: Hash32,
    },
    /// The block is decided: commit it with this certificate.
    Decided(Commit),
    /// The height is over: start the next one.
    Finished {
        /// The height just finished.
        height: u64,
    },
    /// Persist before anything after it is sent.
    Wal(WalEntry),
    /// A validator signed two different votes for one height, round and kind.
    Equivocation(WireVote, WireVote),
}

/// One validator's consensus state machine and the means to answer it.
pub struct Engine {
    state: State<Ctx>,
    metrics: Metrics,
    key: Keypair,
    chain_id: u64,
    set: ValidatorSet,
    timeouts: RoundTimeouts,
    bad_signatures: u64,
    replay_failed: bool,
}

impl Engine {
    /// A validator with `key` at `height` (not started: call [`Engine::start`]).
    pub fn new(chain_id: u64, params: &BftParams, key: Keypair, height: u64) -> Self {
        let set = ValidatorSet::from_params(params);
        let state = Self::fresh_state(&set, &key, height);
        Self {
            state,
            metrics: Metrics::default(),
            key,
            chain_id,
            set,
            timeouts: RoundTimeouts(params.timeouts),
            bad_signatures: 0,
            replay_failed: false,
        }
    }

    fn fresh_state(set: &ValidatorSet, key: &Keypair, height: u64) -> State<Ctx> {
        // Inputs for later heights wait in Malachite's queue: the next few heights,
        // a bounded number each (enough for every validator's votes of a few
        // rounds).
        let per_height = INPUT_QUEUE_MAX.max(64 * set.validators.len());
        State::new(
            Ctx,
            Height(height),
            set.clone(),
            Params {
                address: Addr(key.public_key()),
                threshold_params: Default::default(),
                value_payload: ValuePayload::ProposalAndParts,
                enabled: true,
            },
            INPUT_HEIGHTS_MAX,
            per_height,
        )
    }

    /// The height consensus runs at.
    pub fn height(&self) -> u64 {
        self.state.height().0
    }

    /// The round consensus runs at (-1 before the first).
    pub fn round(&self) -> i64 {
        self.state.round().as_i64()
    }

    /// Whether replaying the consensus log failed (the validator must not vote at
    /// this height: it could contradict what it signed before).
    pub fn replay_failed(&self) -> bool {
        self.replay_failed
    }

    /// Votes, proposals and certificates dropped because a signature or a
    /// certificate's quorum does not verify.
    pub fn bad_signatures(&self) -> u64 {
        self.bad_signatures
    }

    /// Signs `bytes` with our key (the blocks we send beside our proposals).
    pub fn sign(&self, bytes: &[u8]) -> Signature {
        self.key.sign_bytes(bytes)
    }

    /// Our key.
    pub fn key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The proposer of `round` at the current height.
    pub fn proposer(&self, round: Round) -> PublicKey {
        self.proposer_at(self.state.height().0, round)
    }

    /// The proposer of `round` at `height` (the validator set is the genesis's).
    pub fn proposer_at(&self, height: u64, round: Round) -> PublicKey {
        self.state.get_proposer(Height(height), round).0
    }

    /// Starts `height` (Malachite resets its per-height state), replaying `wal`
    /// (what we logged at this height before a restart) so that we never sign
    /// anything that conflicts with what we signed before.
    pub fn start(&mut self, height: u64, wal: &[WalEntry]) -> Vec<Action> {
        let mut actions = self.input(Input::StartHeight(
            Height(height),
            self.set.clone(),
            !wal.is_empty(),
            None,
            VoteExtensionPolicy::Disabled,
        ));
        self.replay_failed = false;
        if !wal.is_empty() {
            let inputs: Vec<Input<Ctx>> = wal.iter().filter_map(wal_input).collect();
            if inputs.len() != wal.len() {
                tracing::error!("consensus log has entries that do not convert");
                self.replay_failed = true;
            }
            self.state.index_wal_entries(inputs.iter());
            for input in inputs {
                actions.extend(self.input(input));
            }
            self.state.reset_entries_index();
            // Replayed entries are on disk already.
            actions.retain(|a| !matches!(a, Action::Wal(_)));
        }
        actions
    }

    /// A vote from the network.
    pub fn on_vote(&mut self, vote: &WireVote) -> Vec<Action> {
        self.input(Input::Vote(vote.to_signed()))
    }

    /// A proposal from the network.
    pub fn on_proposal(&mut self, proposal: &WireProposal) -> Vec<Action> {
        self.input(Input::Proposal(proposal.to_signed()))
    }

    /// A certificate from the network.
    pub fn on_certificate(&mut self, cert: &WireCertificate) -> Vec<Action> {
        match cert.to_liveness() {
            Some(LivenessMsg::PolkaCertificate(c)) => self.input(Input::PolkaCertificate(c)),
            Some(LivenessMsg::SkipRoundCertificate(c)) => self.input(Input::RoundCertificate(c)),
            Some(LivenessMsg::Vote(v)) => self.input(Input::Vote(v)),
            None => Vec::new(),
        }
    }

    /// A timeout fired.
    pub fn on_timeout(&mut self, timeout: Timeout) -> Vec<Action> {
        self.input(Input::TimeoutElapsed(timeout))
    }

    /// Our block for `round` is built: propose it.
    pub fn propose(&mut self, round: Round, block: Hash32) -> Vec<Action> {
        self.input(Input::Propose(
            malachitebft_core_consensus::LocallyProposedValue::new(
                self.state.height(),
                round,
                super::context::BlockId(block),
            ),
        ))
    }

    /// Our verdict on a block someone proposed.
    pub fn on_block_verdict(
        &mut self,
        round: Round,
        valid_round: Round,
        proposer: PublicKey,
        block: Hash32,
        valid: bool,
    ) -> Vec<Action> {
        let value = malachitebft_core_consensus::ProposedValue {
            height: self.state.height(),
            round,
            valid_round,
            proposer: Addr(proposer),
            value: super::context::BlockId(block),
            validity: if valid {
                malachitebft_core_types::Validity::Valid
            } else {
                malachitebft_core_types::Validity::Invalid
            },
        };
        self.input(Input::ProposedValue(
            value,
            malachitebft_core_types::ValueOrigin::Consensus,
        ))
    }

    fn input(&mut self, input: Input<Ctx>) -> Vec<Action> {
        let mut actions = Vec::new();
        let Engine {
            state,
            metrics,
            key,
            chain_id,
            set,
            timeouts,
            bad_signatures,
            replay_failed,
        } = self;
        let result: Result<(), malachitebft_core_consensus::Error<Ctx>> = process!(
            input: input,
            state: state,
            metrics: metrics,
            with: effect => handle(effect, key, *chain_id, set, timeouts, bad_signatures, &mut actions)
        );
        if let Err(e) = result {
            // Most are a peer's bad input; a replay divergence is ours.
            if state.is_replaying_wal() {
                tracing::error!("consensus log replay failed: {e}");
                *replay_failed = true;
            } else {
                tracing::debug!("consensus input refused: {e}");
            }
        }
        actions
    }
}

fn wal_input(entry: &WalEntry) -> Option<Input<Ctx>> {
    Some(match entry {
        WalEntry::Vote(v) => Input::Vote(v.to_signed()),
        WalEntry::Proposal(p) => Input::Proposal(p.to_signed()),
        WalEntry::Polka(c) => match c.to_liveness()? {
            LivenessMsg::PolkaCertificate(c) => Input::PolkaCertificate(c),
            _ => return None,
        },
        WalEntry::Timeout { kind, round } => Input::TimeoutElapsed(Timeout {
            kind: match kind {
                0 => TimeoutKind::Propose,
                1 => TimeoutKind::Prevote,
                2 => TimeoutKind::Precommit,
                _ => return None,
            },
            round: Round::new(*round),
        }),
        WalEntry::Value { .. } => Input::ProposedValue(
            entry.to_value()?,
            malachitebft_core_types::ValueOrigin::Consensus,
        ),
    })
}

fn sig(s: &Sig) -> Signature {
    Signature(s.0)
}

fn vote_for(
    kind: VoteType,
    height: Height,
    round: Round,
    value: NilOrVal<Hash32>,
    by: Addr,
) -> Vote {
    Vote {
        kind,
        height,
        round,
        value,
        validator: by,
    }
}

/// Checks signatures of `(vote, signature)` pairs by distinct validators and that
/// their power passes `needed(total)`.
fn check_votes<'a>(
    chain_id: u64,
    set: &ValidatorSet,
    votes: impl Iterator<Item = (Vote, &'a Sig)>,
    quorum: bool,
) -> Result<(), CertificateError<Ctx>> {
    let mut seen = std::collections::HashSet::new();
    let mut signed: u64 = 0;
    for (vote, signature) in votes {
        let address = vote.validator;
        let validator = set
            .get_by_address(&address)
            .ok_or(CertificateError::UnknownValidator(address))?;
        if !seen.insert(address) {
            return Err(CertificateError::DuplicateVote(address));
        }
        if verify(
            &validator.key,
            &vote_bytes(chain_id, &vote),
            &sig(signature),
        )
        .is_err()
        {
            return Err(CertificateError::VerificationError(None));
        }
        signed = signed.saturating_add(validator.power);
    }
    let total = set.total_voting_power();
    let (ok, expected) = if quorum {
        (
            u128::from(signed) * 3 > u128::from(total) * 2,
            total * 2 / 3 + 1,
        )
    } else {
        (u128::from(signed) * 3 > u128::from(total), total / 3 + 1)
    };
    if ok {
        Ok(())
    } else {
        Err(CertificateError::NotEnoughVotingPower {
            signed,
            total,
            expected,
        })
    }
}

/// More than 2/3 of the power signed `kind` votes for block `value_id` at
/// `height`, `round` (a commit or polka certificate).
fn quorum_for_block<'a>(
    chain_id: u64,
    set: &ValidatorSet,
    kind: VoteType,
    (height, round, value_id): (Height, Round, Hash32),
    signers: impl Iterator<Item = (Addr, &'a Sig)>,
) -> Result<(), CertificateError<Ctx>> {
    check_votes(
        chain_id,
        set,
        signers.map(|(address, signature)| {
            (
                vote_for(kind, height, round, NilOrVal::Val(value_id), address),
                signature,
            )
        }),
        true,
    )
}

fn commit_votes(
    chain_id: u64,
    set: &ValidatorSet,
    c: &CommitCertificate<Ctx>,
) -> Result<(), CertificateError<Ctx>> {
    quorum_for_block(
        chain_id,
        set,
        VoteType::Precommit,
        (c.height, c.round, c.value_id),
        c.commit_signatures
            .iter()
            .map(|s| (s.address, &s.signature)),
    )
}

fn polka_votes(
    chain_id: u64,
    set: &ValidatorSet,
    c: &PolkaCertificate<Ctx>,
) -> Result<(), CertificateError<Ctx>> {
    quorum_for_block(
        chain_id,
        set,
        VoteType::Prevote,
        (c.height, c.round, c.value_id),
        c.polka_signatures.iter().map(|s| (s.address, &s.signature)),
    )
}

fn round_votes(
    chain_id: u64,
    set: &ValidatorSet,
    c: &RoundCertificate<Ctx>,
) -> Result<(), CertificateError<Ctx>> {
    let precommit = c.cert_type == RoundCertificateType::Precommit;
    if precommit
        && let Some(s) = c
            .round_signatures
            .iter()
            .find(|s| s.vote_type != VoteType::Precommit)
    {
        return Err(CertificateError::InvalidVoteType(s.address));
    }
    check_votes(
        chain_id,
        set,
        c.round_signatures.iter().map(|s| {
            (
                vote_for(s.vote_type, c.height, c.round, s.value_id, s.address),
                &s.signature,
            )
        }),
        precommit,
    )
}

fn counted(
    verdict: Result<(), CertificateError<Ctx>>,
    refused: &mut u64,
) -> Result<(), CertificateError<Ctx>> {
    if verdict.is_err() {
        *refused += 1;
        metrics::counter!("ghostd_consensus_dropped_total", "reason" => "bad_certificate")
            .increment(1);
    }
    verdict
}

fn handle(
    effect: Effect<Ctx>,
    key: &Keypair,
    chain_id: u64,
    set: &ValidatorSet,
    timeouts: &RoundTimeouts,
    bad_signatures: &mut u64,
    actions: &mut Vec<Action>,
) -> Result<Resume<Ctx>, String> {
    Ok(match effect {
        Effect::CancelAllTimeouts(r) => {
            actions.push(Action::CancelAll);
            r.resume_with(())
        }
        Effect::CancelTimeout(t, r) => {
            actions.push(Action::Cancel(t));
            r.resume_with(())
        }
        Effect::ScheduleTimeout(t, r) => {
            actions.push(Action::Schedule(t, timeouts.duration_for(t)));
            r.resume_with(())
        }
        Effect::StartRound(_, _, _, _, r) => r.resume_with(()),
        Effect::PublishConsensusMsg(msg, r) => {
            actions.push(Action::Broadcast(match msg {
                SignedConsensusMsg::Vote(v) => NetMsg::Vote(WireVote::from_signed(&v)),
                SignedConsensusMsg::Proposal(p) => NetMsg::Proposal(WireProposal::from_signed(&p)),
            }));
            r.resume_with(())
        }
        Effect::PublishLivenessMsg(msg, r) => {
            actions.push(Action::Broadcast(match msg {
                LivenessMsg::Vote(v) => NetMsg::Vote(WireVote::from_signed(&v)),
                LivenessMsg::PolkaCertificate(c) => {
                    NetMsg::Certificate(WireCertificate::from_polka(&c))
                }
                LivenessMsg::SkipRoundCertificate(c) => {
                    NetMsg::Certificate(WireCertificate::from_round(&c))
                }
            }));
            r.resume_with(())
        }
        Effect::RepublishVote(v, r) => {
            actions.push(Action::Broadcast(NetMsg::Vote(WireVote::from_signed(&v))));
            r.resume_with(())
        }
        Effect::RepublishRoundCertificate(c, r) => {
            actions.push(Action::Broadcast(NetMsg::Certificate(
                WireCertificate::from_round(&c),
            )));
            r.resume_with(())
        }
        Effect::GetValue(height, round, _, r) => {
            actions.push(Action::BuildBlock {
                height: height.0,
                round,
            });
            r.resume_with(())
        }
        Effect::RestreamProposal(_, round, valid_round, _, block, r) => {
            actions.push(Action::Restream {
                round,
                valid_round,
                block,
            });
            r.resume_with(())
        }
        // Sync runs beside consensus (see `replica`): these never come.
        Effect::CertVerifiedSyncValue(_, _, r) => r.resume_with(()),
        Effect::CertRejectedSyncValue(_, _, _, r) => r.resume_with(()),
        Effect::Decide(cert, _, r) => {
            actions.push(Action::Decided(Commit {
                height: cert.height.0,
                round: cert.round.as_u32().unwrap_or(0),
                block: cert.value_id,
                signatures: cert
                    .commit_signatures
                    .iter()
                    .map(|s| (s.address.0, sig(&s.signature)))
                    .collect(),
            }));
            r.resume_with(())
        }
        Effect::Finalize(cert, _, evidence, r) => {
            for (_, doubles) in &evidence.votes {
                for (a, b) in doubles {
                    actions.push(Action::Equivocation(
                        WireVote::from_signed(a),
                        WireVote::from_signed(b),
                    ));
                }
            }
            actions.push(Action::Finished {
                height: cert.height.0,
            });
            r.resume_with(())
        }
        Effect::SignVote(vote, r) => {
            let signature = key.sign_bytes(&vote_bytes(chain_id, &vote));
            r.resume_with(SignedMessage::new(vote, Sig(signature.0)))
        }
        Effect::SignProposal(proposal, r) => {
            let signature = key.sign_bytes(&proposal_bytes(chain_id, &proposal));
            r.resume_with(SignedMessage::new(proposal, Sig(signature.0)))
        }
        Effect::VerifySignature(msg, public_key, r) => {
            let bytes = match &msg.message {
                ConsensusMsg::Vote(v) => vote_bytes(chain_id, v),
                ConsensusMsg::Proposal(p) => proposal_bytes(chain_id, p),
            };
            let ok = verify(&public_key, &bytes, &sig(&msg.signature)).is_ok();
            if !ok {
                *bad_signatures += 1;
                metrics::counter!("ghostd_consensus_dropped_total", "reason" => "bad_signature")
                    .increment(1);
            }
            r.resume_with(ok)
        }
        Effect::VerifyCommitCertificate(c, _, _, r) => {
            r.resume_with(counted(commit_votes(chain_id, set, &c), bad_signatures))
        }
        Effect::VerifyExtendedCommitCertificate(c, _, _, _, r) => {
            let plain = CommitCertificate {
                height: c.height,
                round: c.round,
                value_id: c.value_id,
                commit_signatures: c
                    .commit_signatures
                    .iter()
                    .map(|s| malachitebft_core_types::CommitSignature::new(s.address, s.signature))
                    .collect(),
            };
            r.resume_with(counted(commit_votes(chain_id, set, &plain), bad_signatures))
        }
        Effect::VerifyPolkaCertificate(c, _, _, r) => {
            r.resume_with(counted(polka_votes(chain_id, set, &c), bad_signatures))
        }
        Effect::VerifyRoundCertificate(c, _, _, r) => {
            r.resume_with(counted(round_votes(chain_id, set, &c), bad_signatures))
        }
        Effect::WalAppend(_, input, r) => {
            let entry = match input {
                Input::Vote(v) => Some(WalEntry::Vote(WireVote::from_signed(&v))),
                Input::Proposal(p) => Some(WalEntry::Proposal(WireProposal::from_signed(&p))),
                Input::PolkaCertificate(c) => {
                    Some(WalEntry::Polka(WireCertificate::from_polka(&c)))
                }
                Input::ProposedValue(v, _) => Some(WalEntry::from_value(&v)),
                Input::TimeoutElapsed(t) => match t.kind {
                    TimeoutKind::Propose => Some(0),
                    TimeoutKind::Prevote => Some(1),
                    TimeoutKind::Precommit => Some(2),
                    _ => None,
                }
                .map(|kind| WalEntry::Timeout {
                    kind,
                    round: t.round.as_u32().unwrap_or(0),
                }),
                // Malachite persists no other input (round certificates and
                // sync values are rebuilt, not replayed).
                _ => None,
            };
            if let Some(entry) = entry {
                actions.push(Action::Wal(entry));
            }
            r.resume_with(())
        }
        Effect::ExtendVote(_, _, _, _, r) => r.resume_with(None),
        Effect::VerifyVoteExtension(_, _, _, _, _, _, r) => r.resume_with(Ok(())),
    })
}
