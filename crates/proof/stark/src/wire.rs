//! Bytes at the backend's boundary: segment witnesses (proof jobs) as borsh over
//! plain integers, and digests packed into 32 bytes.
//!
//! A digest is 8 KoalaBear elements (each below 2^31); [`pack_digest`] places
//! element `i` at bits `31·i..31·i+31` of a 248-bit big-endian integer, so the 32
//! bytes are also a canonical BN254 scalar (roots travel as `FieldBytes` on the L1).
//! Decoding checks every element is canonical and every size is bounded, so hostile
//! bytes give a typed error, never a panic or a large allocation.

use borsh::{BorshDeserialize, BorshSerialize};
use p3_field::{PrimeCharacteristicRing, PrimeField32};

use crate::config::Val;
use crate::hash::{DIGEST, Digest, LEAF_FIELDS};
use crate::segment::{Op, OpKind, OpWitness, SegmentHeader, SegmentWitness};
use crate::tree::{DEPTH, LeafUpdate};

/// Most ops a decoded witness may hold (a segment of 2^14 ops is ~40 MB of witness).
pub const MAX_WITNESS_OPS: usize = 1 << 14;

/// Why bytes are not a witness or a digest.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Not the encoding at all.
    #[error("segment witness does not decode: {0}")]
    Decode(String),
    /// A field element is not below the KoalaBear modulus.
    #[error("a field element is not canonical")]
    NonCanonical,
    /// An op kind that does not exist.
    #[error("unknown op kind {0}")]
    Kind(u8),
    /// Op count not a power of two of at least 2, or above the bound.
    #[error("{0} ops: a segment witness holds a power of two, from 2 to {MAX_WITNESS_OPS}")]
    Ops(usize),
    /// 32 bytes that are not a packed digest.
    #[error("32 bytes are not a packed Poseidon2 digest")]
    Digest,
    /// The witness could not be encoded.
    #[error("segment witness does not encode: {0}")]
    Encode(String),
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireLeg {
    index: u32,
    old: [u32; LEAF_FIELDS],
    new: [u32; LEAF_FIELDS],
    siblings: [[u32; DIGEST]; DEPTH],
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireOp {
    kind: u8,
    token: u8,
    a_index: u32,
    a_key: [u8; 32],
    b_index: u32,
    b_data: [u8; 32],
    b_new: bool,
    nonce: u64,
    amount: u128,
    fee: u128,
    a: WireLeg,
    b: WireLeg,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireWitness {
    chain_id: u64,
    batch: u64,
    segment: u32,
    fee_account: u32,
    old_root: [u32; DIGEST],
    new_root: [u32; DIGEST],
    ops: Vec<WireOp>,
}

fn raw<const N: usize>(v: &[Val; N]) -> [u32; N] {
    v.map(|x| x.as_canonical_u32())
}

fn field<const N: usize>(v: &[u32; N]) -> Result<[Val; N], WireError> {
    if v.iter().any(|x| *x >= Val::ORDER_U32) {
        return Err(WireError::NonCanonical);
    }
    Ok(v.map(Val::from_u32))
}

fn kind(tag: u8) -> Result<OpKind, WireError> {
    Ok(match tag {
        0 => OpKind::Noop,
        1 => OpKind::Transfer,
        2 => OpKind::Deposit,
        3 => OpKind::Withdraw,
        4 => OpKind::FeeOnly,
        5 => OpKind::FeeCredit,
        6 => OpKind::ContractKey,
        7 => OpKind::ForcedWithdraw,
        other => return Err(WireError::Kind(other)),
    })
}

fn wire_leg(u: &LeafUpdate) -> WireLeg {
    WireLeg {
        index: u.index,
        old: raw(&u.old),
        new: raw(&u.new),
        siblings: u.siblings.map(|s| raw(&s)),
    }
}

fn leg(w: &WireLeg) -> Result<LeafUpdate, WireError> {
    let mut siblings = [[Val::ZERO; DIGEST]; DEPTH];
    for (out, s) in siblings.iter_mut().zip(&w.siblings) {
        *out = field(s)?;
    }
    Ok(LeafUpdate {
        index: w.index,
        old: field::<LEAF_FIELDS>(&w.old)?,
        new: field::<LEAF_FIELDS>(&w.new)?,
        siblings,
    })
}

/// Encodes a witness (a proof job).
pub fn encode_witness(w: &SegmentWitness) -> Result<Vec<u8>, WireError> {
    let wire = WireWitness {
        chain_id: w.header.chain_id,
        batch: w.header.batch,
        segment: w.header.segment,
        fee_account: w.header.fee_account,
        old_root: raw(&w.old_root),
        new_root: raw(&w.new_root),
        ops: w
            .ops
            .iter()
            .map(|o| WireOp {
                kind: o.op.kind as u8,
                token: o.op.token,
                a_index: o.op.a_index,
                a_key: o.op.a_key,
                b_index: o.op.b_index,
                b_data: o.op.b_data,
                b_new: o.op.b_new,
                nonce: o.op.nonce,
                amount: o.op.amount,
                fee: o.op.fee,
                a: wire_leg(&o.a),
                b: wire_leg(&o.b),
            })
            .collect(),
    };
    borsh::to_vec(&wire).map_err(|e| WireError::Encode(e.to_string()))
}

/// Decodes a witness, checking sizes and canonical elements (not the rules: a
/// dishonest witness simply fails to prove).
pub fn decode_witness(bytes: &[u8]) -> Result<SegmentWitness, WireError> {
    // Bound the op count before borsh allocates for it.
    let count_at = 8 + 8 + 4 + 4 + 2 * 4 * DIGEST;
    let count = bytes
        .get(count_at..count_at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| WireError::Decode("truncated".into()))? as usize;
    if !(2..=MAX_WITNESS_OPS).contains(&count) || !count.is_power_of_two() {
        return Err(WireError::Ops(count));
    }
    let wire = WireWitness::try_from_slice(bytes).map_err(|e| WireError::Decode(e.to_string()))?;
    let ops = wire
        .ops
        .iter()
        .map(|o| {
            Ok(OpWitness {
                op: Op {
                    kind: kind(o.kind)?,
                    token: o.token,
                    a_index: o.a_index,
                    a_key: o.a_key,
                    b_index: o.b_index,
                    b_data: o.b_data,
                    b_new: o.b_new,
                    nonce: o.nonce,
                    amount: o.amount,
                    fee: o.fee,
                },
                a: leg(&o.a)?,
                b: leg(&o.b)?,
            })
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    Ok(SegmentWitness {
        header: SegmentHeader {
            chain_id: wire.chain_id,
            batch: wire.batch,
            segment: wire.segment,
            fee_account: wire.fee_account,
        },
        old_root: field(&wire.old_root)?,
        new_root: field(&wire.new_root)?,
        ops,
    })
}

/// Packs a digest into 32 big-endian bytes (a 248-bit integer).
pub fn pack_digest(d: &Digest) -> [u8; 32] {
    let mut limbs = [0u64; 4];
    for (i, v) in d.iter().enumerate() {
        let v = u64::from(v.as_canonical_u32());
        let at = 31 * i;
        let (word, shift) = (at / 64, at % 64);
        limbs[word] |= v << shift;
        if shift > 64 - 31 {
            limbs[word + 1] |= v >> (64 - shift);
        }
    }
    let mut out = [0u8; 32];
    for (i, limb) in limbs.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// Unpacks [`pack_digest`]'s bytes; refuses bytes it cannot have produced.
pub fn unpack_digest(bytes: &[u8; 32]) -> Result<Digest, WireError> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(b);
    }
    if limbs[3] >> (248 - 192) != 0 {
        return Err(WireError::Digest);
    }
    let mut d = [Val::ZERO; DIGEST];
    for (i, out) in d.iter_mut().enumerate() {
        let at = 31 * i;
        let (word, shift) = (at / 64, at % 64);
        let mut v = limbs[word] >> shift;
        if shift > 64 - 31 {
            v |= limbs[word + 1] << (64 - shift);
        }
        let v = (v & 0x7fff_ffff) as u32;
        if v >= Val::ORDER_U32 {
            return Err(WireError::Digest);
        }
        *out = Val::from_u32(v);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{Account, build_segment};
    use crate::tree::Tree;

    #[test]
    fn digests_pack_canonically_and_round_trip() {
        let d: Digest = core::array::from_fn(|i| Val::from_u32(Val::ORDER_U32 - 1 - i as u32));
        let bytes = pack_digest(&d);
        assert!(bytes[0] < 0x30, "fits below the BN254 modulus");
        assert_eq!(unpack_digest(&bytes), Ok(d));
        let mut bad = bytes;
        bad[0] = 0x01;
        assert_eq!(unpack_digest(&bad), Err(WireError::Digest));
    }

    #[test]
    fn witnesses_round_trip_and_hostile_bytes_are_refused() {
        let mut tree = Tree::new();
        tree.update(0, Account::new([1; 32]).fields()).unwrap();
        let header = SegmentHeader {
            chain_id: 7,
            batch: 1,
            segment: 0,
            fee_account: 0,
        };
        let w = build_segment(&mut tree, header, &[], 2).unwrap();
        let bytes = encode_witness(&w).unwrap();
        assert_eq!(decode_witness(&bytes), Ok(w));
        assert!(matches!(
            decode_witness(&bytes[..10]),
            Err(WireError::Decode(_))
        ));
        let mut huge = bytes.clone();
        let at = 8 + 8 + 4 + 4 + 64;
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            decode_witness(&huge),
            Err(WireError::Ops(u32::MAX as usize))
        );
        let mut bad = bytes;
        bad[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_witness(&bad), Err(WireError::NonCanonical));
    }
}
