//! A second implementation of `docs/state-commitment.md`, from its text alone:
//! integers in, integers out, nothing from the code. The permutation's parameters
//! and constants are parsed from the document. Shared by the prover's
//! known-answer test (`tests/state_commitment.rs`) and the devnet test that
//! checks `l2_getProof` answers (`testing/tests/tests/devnet.rs`).
#![allow(dead_code)]

/// The document, read at compile time (editing it rebuilds the tests).
pub const DOC: &str = include_str!("../../../../../docs/state-commitment.md");

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// KoalaBear: `2^31 − 2^24 + 1`.
pub const P: u32 = 0x7f00_0001;
/// Tree depth.
pub const DEPTH: usize = 24;

pub type Digest = [u32; 8];

/// The permutation's parameters, as the document states them.
pub struct Params {
    pub sbox_degree: u64,
    pub external_initial: Vec<[u64; 16]>,
    pub internal: Vec<u64>,
    pub external_final: Vec<[u64; 16]>,
    pub internal_diag: [u64; 16],
}

static PARAMS: OnceLock<Params> = OnceLock::new();

fn params() -> &'static Params {
    PARAMS.get_or_init(documented_params)
}

const Q: u64 = P as u64;

fn pow(x: u64, mut e: u64) -> u64 {
    let (mut base, mut acc) = (x % Q, 1u64);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * base % Q;
        }
        base = base * base % Q;
        e >>= 1;
    }
    acc
}

/// `x / 2^k` in the field.
pub fn inverse_power_of_two(k: u32) -> u64 {
    pow(pow(2, u64::from(k)), Q - 2)
}

/// `M_E`: `M4` on each 4 consecutive elements, then each element plus the sum
/// of the elements at its position mod 4 (`circ(2·M4, M4, M4, M4)`).
fn external_linear(s: &mut [u64; 16]) {
    for c in s.chunks_exact_mut(4) {
        let x = [c[0], c[1], c[2], c[3]];
        // M4 = [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]]
        c[0] = (2 * x[0] + 3 * x[1] + x[2] + x[3]) % Q;
        c[1] = (x[0] + 2 * x[1] + 3 * x[2] + x[3]) % Q;
        c[2] = (x[0] + x[1] + 2 * x[2] + 3 * x[3]) % Q;
        c[3] = (3 * x[0] + x[1] + x[2] + 2 * x[3]) % Q;
    }
    let sums: [u64; 4] = core::array::from_fn(|k| (0..4).map(|j| s[4 * j + k]).sum());
    for (i, v) in s.iter_mut().enumerate() {
        *v = (*v + sums[i % 4]) % Q;
    }
}

fn external_round(s: &mut [u64; 16], rc: &[u64; 16], d: u64) {
    for (v, c) in s.iter_mut().zip(rc) {
        *v = pow(*v + c, d);
    }
    external_linear(s);
}

/// Poseidon2, width 16, on canonical integers, from the document alone.
pub fn permute(state: [u32; 16]) -> [u32; 16] {
    assert!(state.iter().all(|&v| v < P));
    let p = params();
    let mut s = state.map(u64::from);
    external_linear(&mut s);
    for rc in &p.external_initial {
        external_round(&mut s, rc, p.sbox_degree);
    }
    for rc in &p.internal {
        s[0] = pow(s[0] + rc, p.sbox_degree);
        // M_I = 1 + diag(V): each element becomes sum + V_i · x_i.
        let sum = s.iter().sum::<u64>() % Q;
        for (v, d) in s.iter_mut().zip(&p.internal_diag) {
            *v = (sum + d * *v) % Q;
        }
    }
    for rc in &p.external_final {
        external_round(&mut s, rc, p.sbox_degree);
    }
    s.map(|v| v as u32)
}

/// Node: the first 8 elements of `P(left ‖ right)`.
pub fn compress(left: &Digest, right: &Digest) -> Digest {
    let mut state = [0u32; 16];
    state[..8].copy_from_slice(left);
    state[8..].copy_from_slice(right);
    let out = permute(state);
    core::array::from_fn(|i| out[i])
}

/// Leaf: overwrite sponge, rate 8, zero initial state, 6 blocks, output the
/// first 8 elements.
pub fn hash_leaf(fields: &[u32; 48]) -> Digest {
    let mut state = [0u32; 16];
    for block in fields.chunks_exact(8) {
        state[..8].copy_from_slice(block);
        state = permute(state);
    }
    core::array::from_fn(|i| state[i])
}

/// The 48 leaf elements of an account.
pub fn leaf_fields(key: &[u8; 32], nonce: u64, balances: &[u128; 4]) -> [u32; 48] {
    let mut f = [0u32; 48];
    // Balance of token k: elements 8k..8k+8, 16-bit limbs, least significant first.
    for (k, b) in balances.iter().enumerate() {
        for j in 0..8 {
            f[8 * k + j] = ((b >> (16 * j)) & 0xffff) as u32;
        }
    }
    // Key: the 32 bytes as a little-endian 256-bit integer K; element 32 + i is
    // bits 30i..30i+30 of K (the last, element 40, holds bits 240..256).
    for bit in 0..256 {
        if (key[bit / 8] >> (bit % 8)) & 1 == 1 {
            f[32 + bit / 30] |= 1 << (bit % 30);
        }
    }
    // Nonce: elements 41..45, 16-bit limbs, least significant first.
    for j in 0..4 {
        f[41 + j] = ((nonce >> (16 * j)) & 0xffff) as u32;
    }
    f
}

/// `empty[h]`: an empty leaf (48 zeros) hashed, then `compress(e, e)` up.
pub fn empty() -> [Digest; DEPTH + 1] {
    let mut e = [[0u32; 8]; DEPTH + 1];
    e[0] = hash_leaf(&[0; 48]);
    for h in 1..=DEPTH {
        e[h] = compress(&e[h - 1], &e[h - 1]);
    }
    e
}

/// The nodes of a sparse tree of depth `empty.len() − 1` over leaf digests, by
/// height then index (absent = `empty[h]`): node `j` at height `h + 1` is
/// `compress(node 2j, node 2j + 1)` at height `h`.
pub fn levels(leaves: BTreeMap<u128, Digest>, empty: &[Digest]) -> Vec<BTreeMap<u128, Digest>> {
    let mut levels = vec![leaves];
    for h in 0..empty.len() - 1 {
        let below = &levels[h];
        let node = |j: u128| below.get(&j).copied().unwrap_or(empty[h]);
        let above = below
            .keys()
            .map(|&i| (i >> 1, compress(&node(i & !1), &node(i | 1))))
            .collect();
        levels.push(above);
    }
    levels
}

/// The root of a sparse tree.
pub fn tree_root(leaves: BTreeMap<u128, Digest>, empty: &[Digest]) -> Digest {
    let top = empty.len() - 1;
    levels(leaves, empty)[top]
        .get(&0)
        .copied()
        .unwrap_or(empty[top])
}

/// The siblings of leaf `index`, leaf level first: at height `h` the node
/// `(index >> h) ^ 1`.
pub fn tree_siblings(leaves: BTreeMap<u128, Digest>, empty: &[Digest], index: u128) -> Vec<Digest> {
    let levels = levels(leaves, empty);
    (0..empty.len() - 1)
        .map(|h| {
            levels[h]
                .get(&((index >> h) ^ 1))
                .copied()
                .unwrap_or(empty[h])
        })
        .collect()
}

/// Climbs from a leaf digest: at height `h`, bit `h` of `index` set means the
/// node is the right child.
pub fn climb(index: u128, leaf: Digest, siblings: &[Digest]) -> Digest {
    let mut cur = leaf;
    for (h, s) in siblings.iter().enumerate() {
        cur = if (index >> h) & 1 == 1 {
            compress(s, &cur)
        } else {
            compress(&cur, s)
        };
    }
    cur
}

fn account_digests(leaves: &BTreeMap<u32, [u32; 48]>) -> BTreeMap<u128, Digest> {
    leaves
        .iter()
        .map(|(&i, f)| (u128::from(i), hash_leaf(f)))
        .collect()
}

/// The root of an account tree.
pub fn root(leaves: &BTreeMap<u32, [u32; 48]>) -> Digest {
    tree_root(account_digests(leaves), &empty())
}

/// The siblings of account `index`.
pub fn siblings(leaves: &BTreeMap<u32, [u32; 48]>, index: u32) -> [Digest; DEPTH] {
    tree_siblings(account_digests(leaves), &empty(), u128::from(index))
        .try_into()
        .unwrap()
}

/// The 32 wire bytes: element `i` is bits `31i..31i+31` of a 248-bit integer,
/// written big-endian in 32 bytes (so byte 0 is always 0). Bit by bit, on
/// purpose: a second implementation of `pack_digest`.
pub fn pack(d: &Digest) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, v) in d.iter().enumerate() {
        for b in 0..31 {
            if (v >> b) & 1 == 1 {
                let bit = 31 * i + b;
                out[31 - bit / 8] |= 1 << (bit % 8);
            }
        }
    }
    out
}

/// The digest 32 wire bytes hold: the inverse of [`pack`], bit by bit.
pub fn unpack(bytes: &[u8; 32]) -> Digest {
    let mut d = [0u32; 8];
    for (i, v) in d.iter_mut().enumerate() {
        for b in 0..31 {
            let bit = 31 * i + b;
            if (bytes[31 - bit / 8] >> (bit % 8)) & 1 == 1 {
                *v |= 1 << b;
            }
        }
    }
    d
}

/// The overwrite sponge over any number of elements, zero-padded to whole
/// 8-element blocks.
pub fn sponge(elements: &[u32]) -> Digest {
    let mut state = [0u32; 16];
    let mut padded = elements.to_vec();
    padded.resize(elements.len().div_ceil(8).max(1) * 8, 0);
    for block in padded.chunks_exact(8) {
        state[..8].copy_from_slice(block);
        state = permute(state);
    }
    core::array::from_fn(|i| state[i])
}

/// Nine 30-bit limbs of 32 bytes read as a little-endian integer.
pub fn limbs(bytes: &[u8; 32]) -> [u32; 9] {
    let mut f = [0u32; 9];
    for bit in 0..256 {
        if (bytes[bit / 8] >> (bit % 8)) & 1 == 1 {
            f[bit / 30] |= 1 << (bit % 30);
        }
    }
    f
}

/// A slot's path: from the sponge of its key's limbs and the domain element 2,
/// the low 22 bits of e0 and e1, then the low 21 of e2 to e5.
pub fn slot_index(key: &[u8; 32]) -> u128 {
    let mut input = limbs(key).to_vec();
    input.push(2);
    let e = sponge(&input);
    (u128::from(e[0] & 0x3f_ffff) << 106)
        | (u128::from(e[1] & 0x3f_ffff) << 84)
        | (u128::from(e[2] & 0x1f_ffff) << 63)
        | (u128::from(e[3] & 0x1f_ffff) << 42)
        | (u128::from(e[4] & 0x1f_ffff) << 21)
        | u128::from(e[5] & 0x1f_ffff)
}

/// A present slot's leaf elements: key limbs, 1, length, 3 bytes per element
/// little-endian.
pub fn slot_fields(key: &[u8; 32], value: &[u8]) -> Vec<u32> {
    let mut f = limbs(key).to_vec();
    f.push(1);
    f.push(value.len() as u32);
    for chunk in value.chunks(3) {
        let mut v = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            v += u32::from(*b) << (8 * i);
        }
        f.push(v);
    }
    f
}

pub const STORAGE_DEPTH: usize = 128;

/// `empty[h]` of a storage tree: the sponge of 16 zeros, then `compress(e, e)`.
pub fn storage_empty() -> Vec<Digest> {
    let mut e = vec![sponge(&[0; 16])];
    for h in 1..=STORAGE_DEPTH {
        e.push(compress(&e[h - 1], &e[h - 1]));
    }
    e
}

/// A contract's key field: the packed sponge of its address limbs, code-hash
/// limbs, storage root and the domain element 3.
pub fn contract_key_field(address: &[u8; 32], code_hash: &[u8; 32], root: &Digest) -> [u8; 32] {
    let mut input = limbs(address).to_vec();
    input.extend(limbs(code_hash));
    input.extend(root);
    input.push(3);
    pack(&sponge(&input))
}
pub fn doc_map() -> BTreeMap<String, String> {
    documented().into_iter().collect()
}

/// `[a, b, …]` of decimal or `0x` hex integers.
pub fn parse_list(s: &str) -> Vec<u64> {
    s.trim_matches(['[', ']'])
        .split(", ")
        .map(|x| match x.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => x.parse().unwrap(),
        })
        .collect()
}

/// The permutation as the document states it (what [`reference::permute`] runs).
pub fn documented_params() -> Params {
    let doc = doc_map();
    let get = |name: &str| {
        doc.get(name)
            .unwrap_or_else(|| panic!("docs/state-commitment.md has no `{name}`"))
    };
    let rows = |prefix: &str| -> Vec<[u64; 16]> {
        (0..)
            .map_while(|r| doc.get(&format!("{prefix}_{r}")))
            .map(|row| parse_list(row).try_into().unwrap())
            .collect()
    };
    let params = Params {
        sbox_degree: get("sbox_degree").parse().unwrap(),
        external_initial: rows("rc_external_initial"),
        internal: parse_list(get("rc_internal")),
        external_final: rows("rc_external_final"),
        internal_diag: parse_list(get("internal_diag")).try_into().unwrap(),
    };
    let external: usize = get("external_rounds").parse().unwrap();
    let internal: usize = get("internal_rounds").parse().unwrap();
    assert_eq!(params.external_initial.len(), external / 2);
    assert_eq!(params.external_final.len(), external / 2);
    assert_eq!(params.internal.len(), internal);
    // V = [−2, 1, 2, 1/2, 3, 4, −1/2, −3, −4, 1/2^8, 1/8, 1/2^24, −1/2^8, −1/8, −1/16, −1/2^24]
    let q = u64::from(P);
    let inv = inverse_power_of_two;
    let neg = |x: u64| (q - x) % q;
    let v = [
        neg(2),
        1,
        2,
        inv(1),
        3,
        4,
        neg(inv(1)),
        neg(3),
        neg(4),
        inv(8),
        inv(3),
        inv(24),
        neg(inv(8)),
        neg(inv(3)),
        neg(inv(4)),
        neg(inv(24)),
    ];
    assert_eq!(params.internal_diag, v, "internal_diag");
    params
}

/// The `name = value` lines of the document's ```` ```vectors ```` blocks.
pub fn documented() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOC.lines() {
        let line = line.trim();
        if !inside {
            inside = line == "```vectors";
            continue;
        }
        if line.starts_with("```") {
            inside = false;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("not a `name = value` line: {line}"));
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    out
}
