//! The one STARK configuration every Ghostplane proof uses: KoalaBear base field,
//! its degree-4 extension for challenges, Poseidon2 (width 16, the canonical
//! constants of `p3-koala-bear`) for Merkle commitments and the Fiat–Shamir
//! challenger, and FRI with the parameters in [`FriSettings`].

use p3_challenger::DuplexChallenger;
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::Field;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_koala_bear::{KoalaBear, Poseidon2KoalaBear, default_koalabear_poseidon2_16};
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{PaddingFreeSponge, TruncatedPermutation};
use p3_uni_stark::StarkConfig;

/// The base field.
pub type Val = KoalaBear;
/// The challenge field: KoalaBear⁴ (~124 bits).
pub type Challenge = BinomialExtensionField<Val, 4>;
/// Poseidon2 over KoalaBear, width 16.
pub type Perm = Poseidon2KoalaBear<16>;
type Hash = PaddingFreeSponge<Perm, 16, 8, 8>;
type Compress = TruncatedPermutation<Perm, 2, 8, 16>;
type ValMmcs =
    MerkleTreeMmcs<<Val as Field>::Packing, <Val as Field>::Packing, Hash, Compress, 2, 8>;
type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
type Challenger = DuplexChallenger<Val, Perm, 16, 8>;
type Dft = Radix2DitParallel<Val>;
type Pcs = TwoAdicFriPcs<Val, Dft, ValMmcs, ChallengeMmcs>;
/// The full proof-system configuration.
pub type Config = StarkConfig<Pcs, Challenge, Challenger>;

/// FRI folds by up to `2^FRI_LOG_ARITY` per round: fewer rounds, so fewer Merkle
/// openings for the verifier to check and a smaller proof. (Arity does not enter
/// the conjectured security.)
pub const FRI_LOG_ARITY: usize = 3;
/// FRI stops at a polynomial of `2^FRI_LOG_FINAL_POLY_LEN` coefficients, sent in
/// the clear (the smallest segment's trace, 128 rows, is far above it).
pub const FRI_LOG_FINAL_POLY_LEN: usize = 3;

/// FRI parameters. Conjectured security is `log_blowup · num_queries +
/// query_pow_bits` bits (capped by the ~124-bit challenge field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FriSettings {
    /// log2 of the Reed–Solomon blowup; the AIR's constraint degree must be at most
    /// `2^log_blowup + 1`.
    pub log_blowup: usize,
    /// FRI query count.
    pub num_queries: usize,
    /// Proof-of-work bits ground before the queries are drawn.
    pub query_pow_bits: usize,
}

impl FriSettings {
    /// The settlement parameters: blowup 2, 100 queries, 16 PoW bits: 116
    /// conjectured bits (folding arity and final polynomial: the constants above).
    pub const SETTLEMENT: Self = Self {
        log_blowup: 1,
        num_queries: 100,
        query_pow_bits: 16,
    };

    /// Conjectured security in bits.
    pub const fn conjectured_bits(&self) -> usize {
        self.log_blowup * self.num_queries + self.query_pow_bits
    }
}

/// The permutation with the canonical constants (the same everywhere, forever).
pub fn permutation() -> Perm {
    default_koalabear_poseidon2_16()
}

/// Builds the configuration for `settings`.
pub fn config(settings: FriSettings) -> Config {
    let perm = permutation();
    let val_mmcs = ValMmcs::new(Hash::new(perm.clone()), Compress::new(perm.clone()), 0);
    let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
    let fri = FriParameters {
        log_blowup: settings.log_blowup,
        log_final_poly_len: FRI_LOG_FINAL_POLY_LEN,
        max_log_arity: FRI_LOG_ARITY,
        num_queries: settings.num_queries,
        batch_proof_of_work_bits: 0,
        commit_proof_of_work_bits: 0,
        query_proof_of_work_bits: settings.query_pow_bits,
        mmcs: challenge_mmcs,
    };
    let pcs = Pcs::new(Dft::default(), val_mmcs, fri);
    Config::new(pcs, Challenger::new(perm))
}
