//! R1CS gadgets the chunk circuit is built from: the circom Poseidon permutation, range
//! checks, and the 4-ary Merkle path step.
//!
//! The Poseidon gadget uses the very parameters (round constants and MDS matrices)
//! that `light-poseidon` hashes with natively, so an in-circuit hash equals
//! [`ghostplane_primitives::poseidon`] (checked by the tests below against the same
//! known answers). Costs: an S-box `x^5` is three constraints; linear layers are free.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ghostplane_primitives::Fr;
use light_poseidon::PoseidonParameters;
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;

/// Largest number of inputs the gadget hashes in one permutation (width 8).
pub const POSEIDON_GADGET_INPUTS_MAX: usize = 7;

fn parameters(inputs: usize) -> Result<&'static PoseidonParameters<Fr>, SynthesisError> {
    static PARAMS: OnceLock<Vec<Option<PoseidonParameters<Fr>>>> = OnceLock::new();
    let all = PARAMS.get_or_init(|| {
        (0..=POSEIDON_GADGET_INPUTS_MAX)
            .map(|n| {
                if n == 0 {
                    None
                } else {
                    u8::try_from(n + 1)
                        .ok()
                        .and_then(|width| get_poseidon_parameters::<Fr>(width).ok())
                }
            })
            .collect()
    });
    all.get(inputs)
        .and_then(Option::as_ref)
        .ok_or(SynthesisError::Unsatisfiable)
}

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// `sum(coefficients[j] * state[j])` as one linear combination (no constraints).
fn mix_row(row: &[Fr], state: &[FpVar<Fr>]) -> FpVar<Fr> {
    let mut constant = Fr::from(0u64);
    let mut coefficients = Vec::with_capacity(state.len());
    let mut variables: Vec<&AllocatedFp<Fr>> = Vec::with_capacity(state.len());
    for (c, s) in row.iter().zip(state) {
        match s {
            FpVar::Constant(value) => constant += *c * value,
            FpVar::Var(v) => {
                coefficients.push(*c);
                variables.push(v);
            }
        }
    }
    match AllocatedFp::linear_combination(coefficients, &variables) {
        Some(lc) => FpVar::Var(lc) + FpVar::Constant(constant),
        None => FpVar::Constant(constant),
    }
}

/// Poseidon (circom instance, BN254) of 1 to [`POSEIDON_GADGET_INPUTS_MAX`] inputs.
pub fn poseidon(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let params = parameters(inputs.len())?;
    let width = params.width;
    let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(width);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());
    let half = params.full_rounds / 2;
    let rounds = params.full_rounds + params.partial_rounds;
    for round in 0..rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += FpVar::Constant(params.ark[round * width + i]);
        }
        let full = round < half || round >= half + params.partial_rounds;
        if full {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        state = params.mds.iter().map(|row| mix_row(row, &state)).collect();
    }
    Ok(state.swap_remove(0))
}

/// Allocates the `bits` low bits of `x` and enforces that they recompose to `x`, which
/// proves `0 <= x < 2^bits`. Costs `bits + 1` constraints.
pub fn range_check(
    cs: &ConstraintSystemRef<Fr>,
    x: &FpVar<Fr>,
    bits: usize,
) -> Result<(), SynthesisError> {
    let value = x.value();
    let mut sum = Vec::with_capacity(bits);
    let mut weight = Fr::from(1u64);
    for i in 0..bits {
        let bit = Boolean::new_witness(cs.clone(), || {
            value
                .as_ref()
                .map(|v| v.into_bigint().get_bit(i))
                .map_err(|_| SynthesisError::AssignmentMissing)
        })?;
        sum.push(FpVar::from(bit) * weight);
        weight.double_in_place();
    }
    let recomposed: FpVar<Fr> = sum.iter().sum();
    recomposed.enforce_equal(x)
}

/// Allocates `bits` booleans holding the low bits of `value` (little-endian) and
/// returns them with their recomposition.
pub fn alloc_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: u64,
    bits: usize,
) -> Result<(Vec<Boolean<Fr>>, FpVar<Fr>), SynthesisError> {
    let mut out = Vec::with_capacity(bits);
    let mut terms = Vec::with_capacity(bits);
    let mut weight = Fr::from(1u64);
    for i in 0..bits {
        let bit = Boolean::new_witness(cs.clone(), || Ok((value >> i) & 1 == 1))?;
        terms.push(FpVar::from(bit.clone()) * weight);
        weight.double_in_place();
        out.push(bit);
    }
    Ok((out, terms.iter().sum()))
}

/// One level of a 4-ary Merkle path whose position is given by two bits (low, high).
///
/// Holds the products that depend only on the siblings and the position, so that the
/// old and the new path through the same siblings share them.
pub struct PathLevel {
    e0: FpVar<Fr>,
    e1: FpVar<Fr>,
    e2: FpVar<Fr>,
    e3: FpVar<Fr>,
    siblings: [FpVar<Fr>; 3],
    /// `s0 + e0 (s0 - s1)` partial of child 1 and `s2 + (e0 + e1)(s1 - s2)` of child 2.
    c1_base: FpVar<Fr>,
    c2_base: FpVar<Fr>,
}

impl PathLevel {
    /// Prepares a level from its position bits and its three siblings (child order).
    pub fn new(
        low: &Boolean<Fr>,
        high: &Boolean<Fr>,
        siblings: [FpVar<Fr>; 3],
    ) -> Result<Self, SynthesisError> {
        let b0 = FpVar::from(low.clone());
        let b1 = FpVar::from(high.clone());
        let e3 = FpVar::from(low & high);
        let e1 = &b0 - &e3;
        let e2 = &b1 - &e3;
        let e0 = FpVar::Constant(Fr::from(1u64)) - &b0 - &b1 + &e3;
        let [s0, s1, s2] = &siblings;
        let c1_base = s1 + &e0 * (s0 - s1);
        let c2_base = s2 + (&e0 + &e1) * (s1 - s2);
        Ok(Self {
            e0,
            e1,
            e2,
            e3,
            c1_base,
            c2_base,
            siblings,
        })
    }

    /// The parent of `current` at this level.
    pub fn parent(&self, current: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let [s0, s1, s2] = &self.siblings;
        let c0 = s0 + &self.e0 * (current - s0);
        let c1 = &self.c1_base + &self.e1 * (current - s1);
        let c2 = &self.c2_base + &self.e2 * (current - s2);
        let c3 = s2 + &self.e3 * (current - s2);
        poseidon(&[c0, c1, c2, c3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;
    use ghostplane_primitives::merkle::node_hash;

    fn witness(cs: &ConstraintSystemRef<Fr>, v: u64) -> FpVar<Fr> {
        FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap()
    }

    #[test]
    fn poseidon_gadget_matches_native() {
        for n in 1..=POSEIDON_GADGET_INPUTS_MAX {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let values: Vec<Fr> = (1..=n as u64).map(Fr::from).collect();
            let vars: Vec<_> = (1..=n as u64).map(|v| witness(&cs, v)).collect();
            let out = poseidon(&vars).unwrap();
            let native = ghostplane_primitives::poseidon(&values).unwrap();
            assert_eq!(out.value().unwrap(), native, "width {}", n + 1);
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn range_check_rejects_wide_values() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let ok = witness(&cs, u64::MAX);
        range_check(&cs, &ok, 64).unwrap();
        assert!(cs.is_satisfied().unwrap());
        let too_wide = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u128 << 64))).unwrap();
        range_check(&cs, &too_wide, 64).unwrap();
        assert!(!cs.is_satisfied().unwrap());
        let negative = FpVar::new_witness(cs.clone(), || Ok(-Fr::from(1u64))).unwrap();
        let cs2 = ConstraintSystem::<Fr>::new_ref();
        let negative2 = FpVar::new_witness(cs2.clone(), || negative.value()).unwrap();
        range_check(&cs2, &negative2, 128).unwrap();
        assert!(!cs2.is_satisfied().unwrap());
    }

    #[test]
    fn path_level_places_current_at_each_position() {
        let siblings = [Fr::from(11u64), Fr::from(22u64), Fr::from(33u64)];
        let current = Fr::from(99u64);
        for position in 0..4u64 {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let (bits, _) = alloc_bits(&cs, position, 2).unwrap();
            let sib = siblings.map(|s| FpVar::new_witness(cs.clone(), || Ok(s)).unwrap());
            let level = PathLevel::new(&bits[0], &bits[1], sib).unwrap();
            let cur = FpVar::new_witness(cs.clone(), || Ok(current)).unwrap();
            let parent = level.parent(&cur).unwrap();
            let mut children = [Fr::from(0u64); 4];
            let mut others = siblings.iter();
            for (slot, child) in children.iter_mut().enumerate() {
                *child = if slot as u64 == position {
                    current
                } else {
                    *others.next().unwrap()
                };
            }
            assert_eq!(parent.value().unwrap(), node_hash(&children));
            assert!(cs.is_satisfied().unwrap());
        }
    }
}
