//! ghostd's types as a Malachite [`Context`]: heights, validators, the block id as
//! the value consensus runs on, votes and proposals, and ed25519 signing.
//!
//! Consensus agrees on a block *id* (the header hash); the block itself travels
//! beside it as a [`super::wire::BlockMsg`] that each validator executes before it
//! tells consensus the id is valid (Malachite's "proposal and parts" payload mode,
//! with the whole block as the one part).

use std::fmt;

use ghostd_types::consensus::{BftParams, Timeouts};
use ghostplane_primitives::{Hash32, PublicKey};
use malachitebft_core_types::{
    self as mc, Context, NilOrVal, Round, SignedExtension, TimeoutKind, ValueId, VoteType,
    VotingPower,
};

/// A validator's address: its ed25519 key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub PublicKey);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.0.to_hex();
        write!(f, "{}", &hex[..12])
    }
}

impl mc::Address for Addr {}

/// A block height.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// The value consensus decides: a block, by its header hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(pub Hash32);

impl mc::Value for BlockId {
    type Id = Hash32;

    fn id(&self) -> Hash32 {
        self.0
    }
}

/// A proposal: "block `value` at `height`, `round`" (with its proof-of-lock round).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed block.
    pub value: BlockId,
    /// The round of the polka that justifies re-proposing it (or nil).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Addr,
}

impl mc::Proposal<Ctx> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockId {
        &self.value
    }
    fn take_value(self) -> BlockId {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Addr {
        &self.proposer
    }
}

/// A prevote or precommit for a block (or nil). Votes carry no extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Prevote or precommit.
    pub kind: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<Hash32>,
    /// The voter.
    pub validator: Addr,
}

impl mc::Vote<Ctx> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<Hash32> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<Hash32> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.kind
    }
    fn validator_address(&self) -> &Addr {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<Ctx>> {
        None
    }
    fn take_extension(&mut self) -> Option<SignedExtension<Ctx>> {
        None
    }
    fn extend(self, _extension: SignedExtension<Ctx>) -> Self {
        // Vote extensions are disabled (the policy is `Disabled`): nothing to attach.
        self
    }
}

/// The proposal-part type Malachite requires. ghostd sends the whole block as
/// one application message ([`super::wire::BlockMsg`]), so consensus never
/// handles parts; this type only fills the slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WholeBlock;

impl mc::ProposalPart<Ctx> for WholeBlock {
    fn is_first(&self) -> bool {
        true
    }
    fn is_last(&self) -> bool {
        true
    }
}

/// A validator: key and voting power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Address (= key).
    pub address: Addr,
    /// Its key.
    pub key: PublicKey,
    /// Voting power.
    pub power: VotingPower,
}

impl mc::Validator<Ctx> for Validator {
    fn address(&self) -> &Addr {
        &self.address
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    fn voting_power(&self) -> VotingPower {
        self.power
    }
}

/// The validator set, in genesis order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    /// Validators.
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// The genesis set.
    pub fn from_params(params: &BftParams) -> Self {
        Self {
            validators: params
                .validators
                .iter()
                .map(|v| Validator {
                    address: Addr(v.key),
                    key: v.key,
                    power: v.power,
                })
                .collect(),
        }
    }
}

impl mc::ValidatorSet<Ctx> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.power).sum()
    }
    fn get_by_address(&self, address: &Addr) -> Option<&Validator> {
        self.validators.iter().find(|v| v.address == *address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// An ed25519 signature with the ordering Malachite's sets need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sig(pub [u8; 64]);

/// ed25519 (ZIP-215 verification, as for transactions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519;

impl mc::SigningScheme for Ed25519 {
    type DecodingError = String;
    type Signature = Sig;
    type PublicKey = PublicKey;
    type PrivateKey = [u8; 32];

    fn decode_signature(bytes: &[u8]) -> Result<Sig, String> {
        <[u8; 64]>::try_from(bytes)
            .map(Sig)
            .map_err(|_| format!("a signature is 64 bytes, not {}", bytes.len()))
    }
    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0.to_vec()
    }
    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, String> {
        <[u8; 32]>::try_from(bytes)
            .map(PublicKey)
            .map_err(|_| format!("a key is 32 bytes, not {}", bytes.len()))
    }
    fn encode_public_key(key: &PublicKey) -> Vec<u8> {
        key.0.to_vec()
    }
}

/// Round timeouts from the genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RoundTimeouts(pub Timeouts);

impl mc::Timeouts<Ctx> for RoundTimeouts {
    fn duration_for(&self, timeout: mc::Timeout) -> std::time::Duration {
        let t = &self.0;
        let round = u64::from(timeout.round.as_u32().unwrap_or(0));
        let ms = match timeout.kind {
            TimeoutKind::Propose => t.propose_ms + t.delta_ms * round,
            TimeoutKind::Prevote => t.prevote_ms + t.delta_ms * round,
            TimeoutKind::Precommit => t.precommit_ms + t.delta_ms * round,
            TimeoutKind::Rebroadcast => t.propose_ms + t.prevote_ms + t.precommit_ms,
            TimeoutKind::FinalizeHeight(d) => return d,
        };
        std::time::Duration::from_millis(ms)
    }
}

/// ghostd's consensus context.
#[derive(Clone, Debug, Default)]
pub struct Ctx;

impl Context for Ctx {
    type Address = Addr;
    type Height = Height;
    type ProposalPart = WholeBlock;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = RoundTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519;

    /// Round robin over the genesis order, shifted by height: every validator
    /// proposes in turn whatever its power (power weighs votes, not turns).
    fn select_proposer<'a>(
        &self,
        set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        proposer_index(set.validators.len(), height.0, round)
            .and_then(|i| set.validators.get(i))
            .unwrap_or_else(|| &set.validators[0])
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockId,
        pol_round: Round,
        address: Addr,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId<Self>>,
        address: Addr,
    ) -> Vote {
        Vote {
            kind: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId<Self>>,
        address: Addr,
    ) -> Vote {
        Vote {
            kind: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }
}

/// The index of the proposer of `height`, `round` among `n` validators.
pub fn proposer_index(n: usize, height: u64, round: Round) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let round = u64::from(round.as_u32().unwrap_or(0));
    let n64 = n as u64;
    usize::try_from((height % n64 + round % n64) % n64).ok()
}
