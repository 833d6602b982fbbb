//! The one STARK configuration every Ghostplane proof uses: KoalaBear base field,
//! its degree-5 extension for challenges, Keccak-f[1600] for the proof's Merkle
//! commitments (a sponge over the serialized rows, 4 rows at a time in AVX2 lanes;
//! 256-bit digests) and Keccak-256 for the Fiat–Shamir challenger, and FRI with
//! the parameters in [`FriSettings`].
//!
//! Why Keccak and not Poseidon2 for the commitments (issue 38): the prover hashes
//! every row of the blown-up trace, ~480 field elements each. Poseidon2 took half
//! the proving time at 8 elements a permutation; Keccak-f absorbs 17 64-bit words
//! a permutation, packed four rows wide. Nothing recursive verifies these proofs
//! (ghostd does, natively), so an arithmetic-friendly hash buys nothing here. The
//! state tree the AIR proves stays Poseidon2 ([`Perm`], [`crate::hash`]): its
//! vectors are published.
//!
//! Why the quintic extension: every provable soundness term that is not a query
//! (the FRI folding rounds, DEEP, the batched openings, the constraint
//! combination) is `challenge field bits − log2(list size · domain · …)`. With
//! KoalaBear⁴ (~124 bits) the batched-openings term caps the Johnson-bound figure
//! near 86 bits for a 1024-op segment (82 at 2^20 rows) whatever the query count,
//! so 100 provable bits needed grinding before the batching, folding and
//! out-of-domain challenges (not estimated here); KoalaBear⁵ (~155
//! bits) moves those terms up by 31 bits, on the way to 128 (see
//! [`crate::security`] and `docs/stark-security.md`).

use p3_challenger::{HashChallenger, SerializingChallenger32};
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::extension::QuinticTrinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_keccak::{Keccak256Hash, KeccakF, VECTOR_LEN};
use p3_koala_bear::{KoalaBear, Poseidon2KoalaBear, default_koalabear_poseidon2_16};
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{CompressionFunctionFromHasher, PaddingFreeSponge, SerializingHasher};
use p3_uni_stark::StarkConfig;

/// The base field.
pub type Val = KoalaBear;
/// The challenge field: KoalaBear⁵ (`X^5 + X^2 − 1`, ~155 bits).
pub type Challenge = QuinticTrinomialExtensionField<Val>;
/// Poseidon2 over KoalaBear, width 16: the state tree's hash (not the proof's).
pub type Perm = Poseidon2KoalaBear<16>;
/// Keccak-f[1600] as a sponge over 64-bit words: rate 17, 4 words (256 bits) out.
type U64Hash = PaddingFreeSponge<KeccakF, 25, 17, 4>;
type Hash = SerializingHasher<U64Hash>;
type Compress = CompressionFunctionFromHasher<U64Hash, 2, 4>;
type ValMmcs = MerkleTreeMmcs<[Val; VECTOR_LEN], [u64; VECTOR_LEN], Hash, Compress, 2, 4>;
type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
type Challenger = SerializingChallenger32<Val, HashChallenger<u8, Keccak256Hash, 32>>;

/// The proof's commitment hash, as the parameters hash records it.
pub const COMMITMENT_HASH: &str = "keccak-f1600/rate17/256";
/// Collision resistance of a commitment digest (256 bits), in bits.
pub const COMMITMENT_COLLISION_BITS: usize = 128;
type Dft = Radix2DitParallel<Val>;
type Pcs = TwoAdicFriPcs<Val, Dft, ValMmcs, ChallengeMmcs>;
/// The full proof-system configuration.
pub type Config = StarkConfig<Pcs, Challenge, Challenger>;

/// FRI folds by up to `2^FRI_LOG_ARITY` per round: fewer rounds, so fewer Merkle
/// openings for the verifier to check and a smaller proof. (The provable estimate
/// charges each folding round `log2(arity − 1)` bits; with the quintic challenge
/// field that term is far from binding.)
pub const FRI_LOG_ARITY: usize = 3;
/// FRI stops at a polynomial of `2^FRI_LOG_FINAL_POLY_LEN` coefficients, sent in
/// the clear (the smallest segment's trace, 128 rows, is far above it).
pub const FRI_LOG_FINAL_POLY_LEN: usize = 3;

/// FRI parameters. [`crate::security`] computes their provable and conjectured
/// security for a segment size; [`FriSettings::check`] refuses a setting below the
/// floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FriSettings {
    /// log2 of the Reed–Solomon blowup; the AIR's constraint degree (3) must be at
    /// most `2^log_blowup + 1`.
    pub log_blowup: usize,
    /// FRI query count.
    pub num_queries: usize,
    /// Proof-of-work bits ground before the queries are drawn.
    pub query_pow_bits: usize,
}

impl FriSettings {
    /// The settlement parameters: blowup 4, 90 queries, 16 PoW bits. For the
    /// largest segment (2^14 ops, 2^20 rows) `p3-security` gives 103.9 provable
    /// bits under the Johnson bound (the floor is
    /// [`crate::security::PROVEN_BITS_MIN`]), 77.0 under unique decoding and 122.1
    /// conjectured; for the devnet's 1024-op segment 104.9 / 77.0 / 126.1. A unit
    /// test recomputes them. (Until issue 33: blowup 2, 100 queries, 16 PoW bits
    /// over KoalaBear⁴, called "116 bits" by the old `log_blowup · queries + pow`
    /// heuristic: 65.9 provable bits, 57.5 under unique decoding.)
    pub const SETTLEMENT: Self = Self {
        log_blowup: 2,
        num_queries: 90,
        query_pow_bits: 16,
    };

    /// Conjectured security in bits (random-words regime, `p3-security`) at the
    /// largest segment, rounded down; what `prover info` prints. The provable
    /// figure is lower: see [`crate::security::security`].
    pub fn conjectured_bits(&self) -> usize {
        crate::security::security(*self, crate::security::LOG_ROWS_MAX)
            .map_or(0, |s| s.conjectured_bits.max(0.0).floor() as usize)
    }
}

/// The permutation with the canonical constants (the same everywhere, forever).
pub fn permutation() -> Perm {
    default_koalabear_poseidon2_16()
}

/// The FRI parameters of `settings` over `mmcs` (the security estimate reads them
/// with `()` for the commitment scheme, so the two cannot drift apart). No grinding
/// before the batching or folding challenges: the quintic field leaves those terms
/// far above the query term.
pub fn fri_parameters<M>(settings: FriSettings, mmcs: M) -> FriParameters<M> {
    FriParameters {
        log_blowup: settings.log_blowup,
        log_final_poly_len: FRI_LOG_FINAL_POLY_LEN,
        max_log_arity: FRI_LOG_ARITY,
        num_queries: settings.num_queries,
        batch_proof_of_work_bits: 0,
        commit_proof_of_work_bits: 0,
        query_proof_of_work_bits: settings.query_pow_bits,
        mmcs,
    }
}

/// Builds the configuration for `settings`.
pub fn config(settings: FriSettings) -> Config {
    let sponge = U64Hash::new(KeccakF);
    let val_mmcs = ValMmcs::new(Hash::new(sponge), Compress::new(sponge), 0);
    let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
    let fri = fri_parameters(settings, challenge_mmcs);
    let pcs = Pcs::new(Dft::default(), val_mmcs, fri);
    Config::new(pcs, Challenger::from_hasher(Vec::new(), Keccak256Hash))
}
