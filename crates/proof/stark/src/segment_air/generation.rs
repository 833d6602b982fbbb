//! Trace generation: a segment witness's rows, as the constraints in
//! [`super::air`] check them. The witness is not checked here: a dishonest one
//! gives a trace that does not satisfy the AIR.

use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_S_BOX_DEGREE};
use p3_matrix::dense::RowMajorMatrix;
use p3_maybe_rayon::prelude::*;
use p3_poseidon2_air::generate_trace_rows;

use super::columns::{
    A_IDX, A_KEY, AMOUNT, B_AT, B_IDX, B_KEY, B_NEW, BIT, BOR, CARRIED_END, COMMIT, FEE, FEE_IN,
    FEE_OUT, FEE_ROW, FULL, HALF_FULL, IDLE_ROW, INDEX, K_CK, K_D, K_F, K_FC, K_FW, K_T, K_X, KIND,
    LANE_ACC, LANE_BIT, LANE_BITS, LANES, NEW, NEW_A_GCC, NEW_A_NONCE, NEW_A_TOK, NEW_B_TOK, NONCE,
    OH, OLD, OP_ROWS, PARTIAL, PERM_COLS, RC, ROOT, TOK_A, TOK_B, UPDATE_ROWS, WIDTH, WINDOWS,
    constants,
};
use crate::config::Val;
use crate::hash::{
    DIGEST, Digest, LANES as PERM_LANES, LEAF_BLOCKS, LeafFields, parent_input, permute_many,
    truncate,
};
use crate::segment::{
    BALANCE_LIMBS, NONCE_LIMBS, OpError, OpKind, OpWitness, SegmentWitness, TOKENS, commit_inputs,
    key_limbs, u64_limbs, u128_limbs,
};
use crate::tree::{CAPACITY, DEPTH, LeafUpdate};

/// Why a trace cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TraceError {
    /// The AIR needs a power-of-two number of ops, at least 2.
    #[error("{0} ops: a segment needs a power of two, at least 2 (pad with no-ops)")]
    OpCount(usize),
    /// An update's index does not fit the tree.
    #[error("account index {0} is outside the tree (capacity 2^{DEPTH})")]
    IndexOutOfRange(u32),
    /// An op cannot be committed to.
    #[error("op {op}: {error}")]
    Op {
        /// Its position.
        op: usize,
        /// Why.
        error: OpError,
    },
}

fn val_i64(v: i64) -> Val {
    if v >= 0 {
        Val::from_u64(v as u64)
    } else {
        -Val::from_u64(v.unsigned_abs())
    }
}

fn canon(v: Val) -> i64 {
    i64::from(v.as_canonical_u32())
}

/// The carries of `out = inp + delta` limb by limb (`delta` signed per limb), as the
/// AIR checks them: `inp + delta + c_in - c_out·2^16 = out`. For a dishonest witness
/// the values do not satisfy the AIR, which is the point.
fn carries(inp: &[Val], delta: &[i64], out: &[Val], first_in: i64, row: &mut [Val]) {
    let mut cin = first_in;
    for i in 0..inp.len() {
        let cout = (canon(inp[i]) + delta[i] + cin - canon(out[i])) >> 16;
        row[BOR + i] = val_i64(cout.abs());
        cin = cout;
    }
}

/// The permutation inputs of leaf-update chains (a leaf and the update whose path
/// it climbs), `UPDATE_ROWS` per chain, and the root each chain reaches. The chains
/// advance in lockstep, so every step's permutations run packed
/// ([`permute_many`]): the same inputs as hashing each chain on its own.
fn chain_inputs(chains: &[(&LeafFields, &LeafUpdate)]) -> (Vec<Vec<[Val; 16]>>, Vec<Digest>) {
    let mut inputs = vec![Vec::with_capacity(UPDATE_ROWS); chains.len()];
    // Each chain's state after its latest permutation (zero before the first).
    let mut states = vec![[Val::ZERO; 16]; chains.len()];
    for step in 0..UPDATE_ROWS {
        for ((leaf, update), (state, inputs)) in
            chains.iter().zip(states.iter_mut().zip(inputs.iter_mut()))
        {
            let input = if step < LEAF_BLOCKS {
                // The leaf sponge absorbs block `step` over the previous state.
                let mut input = *state;
                input[..DIGEST].copy_from_slice(&leaf[step * DIGEST..][..DIGEST]);
                input
            } else {
                let h = step - LEAF_BLOCKS;
                let right = (update.index >> h) & 1 == 1;
                parent_input(&truncate(state), &update.siblings[h], right)
            };
            inputs.push(input);
            *state = input;
        }
        permute_many(&mut states);
    }
    (inputs, states.iter().map(truncate).collect())
}

/// Ops per lockstep group: four chains each (both legs, old and new), so two ops
/// fill one packed permutation's lanes.
const OPS_PER_GROUP: usize = PERM_LANES.div_ceil(4);

/// One op's rows apart from the permutations: `rows` is `OP_ROWS × WIDTH`, with the
/// permutation columns still empty.
fn fill_op(w: &OpWitness, roots: &[Digest; 3], fee_in: u128, commit: Digest, rows: &mut [Val]) {
    let op = &w.op;
    let kind = op.kind;
    let token = usize::from(op.token).min(TOKENS - 1);
    let fee_out = fee_after(w, fee_in);
    let mut carried = vec![Val::ZERO; CARRIED_END - KIND];
    let mut put = |col: usize, v: Val| carried[col - KIND] = v;
    let flag = |k: OpKind| Val::from_bool(kind == k);
    put(K_T, flag(OpKind::Transfer));
    put(K_D, flag(OpKind::Deposit));
    put(K_X, flag(OpKind::Withdraw));
    put(K_F, flag(OpKind::FeeOnly));
    put(K_FC, flag(OpKind::FeeCredit));
    put(K_CK, flag(OpKind::ContractKey));
    put(K_FW, flag(OpKind::ForcedWithdraw));
    let debits = kind.debits();
    for k in 0..TOKENS {
        put(OH + k, Val::from_bool(k == token));
        put(TOK_A + k, Val::from_bool(k == token && debits));
        put(TOK_B + k, Val::from_bool(k == token && kind.has_receiver()));
    }
    let forced = kind == OpKind::ForcedWithdraw;
    put(B_NEW, Val::from_bool(op.b_new && !forced));
    put(FULL, Val::from_bool(op.b_new && forced));
    put(A_IDX, Val::from_u32(op.a_index));
    put(B_IDX, Val::from_u32(op.b_index));
    let limbs = |put: &mut dyn FnMut(usize, Val), at: usize, v: &[u32]| {
        for (j, l) in v.iter().enumerate() {
            put(at + j, Val::from_u32(*l));
        }
    };
    limbs(&mut put, NONCE, &u64_limbs(op.nonce));
    limbs(&mut put, AMOUNT, &u128_limbs(op.amount));
    limbs(&mut put, FEE, &u128_limbs(op.fee));
    limbs(&mut put, A_KEY, &key_limbs(&op.a_key));
    limbs(&mut put, B_KEY, &key_limbs(&op.b_data));
    let bal = |leaf: &[Val], k: usize| leaf[k * BALANCE_LIMBS..(k + 1) * BALANCE_LIMBS].to_vec();
    for (j, v) in bal(&w.a.new, 0).into_iter().enumerate() {
        put(NEW_A_GCC + j, v);
    }
    if debits && token != 0 {
        for (j, v) in bal(&w.a.new, token).into_iter().enumerate() {
            put(NEW_A_TOK + j, v);
        }
    }
    let nonce_at = crate::segment::NONCE_AT;
    for j in 0..NONCE_LIMBS {
        put(NEW_A_NONCE + j, w.a.new[nonce_at + j]);
    }
    if kind.has_receiver() {
        for (j, v) in bal(&w.b.new, token).into_iter().enumerate() {
            put(NEW_B_TOK + j, v);
        }
    }
    limbs(&mut put, FEE_IN, &u128_limbs(fee_in));
    limbs(&mut put, FEE_OUT, &u128_limbs(fee_out));
    for (j, v) in commit.iter().enumerate() {
        put(COMMIT + j, *v);
    }

    let amount: Vec<i64> = u128_limbs(op.amount)
        .iter()
        .map(|l| i64::from(*l))
        .collect();
    let fee: Vec<i64> = u128_limbs(op.fee).iter().map(|l| i64::from(*l)).collect();
    let zero = vec![0i64; BALANCE_LIMBS];
    for (r, row) in rows.chunks_exact_mut(WIDTH).enumerate() {
        row[KIND..CARRIED_END].copy_from_slice(&carried);
        row[ROOT..ROOT + DIGEST].copy_from_slice(&roots[r / UPDATE_ROWS]);
        let (leg, u) = if r < B_AT {
            (&w.a, r)
        } else {
            (&w.b, r - B_AT)
        };
        if r < IDLE_ROW && u >= LEAF_BLOCKS {
            let h = u - LEAF_BLOCKS;
            row[BIT] = Val::from_bool((leg.index >> h) & 1 == 1);
            let mask = (1u64 << (h + 1)) - 1;
            row[INDEX] = Val::from_u64(u64::from(leg.index) & mask);
        }
        // Carries of the rows that add or subtract limbs.
        let block = |leaf: &[Val; crate::hash::LEAF_FIELDS], u: usize| {
            leaf[u * DIGEST..(u + 1) * DIGEST].to_vec()
        };
        if r < B_AT && u < TOKENS {
            let k = u;
            let neg = |v: &[i64]| v.iter().map(|x| -x).collect::<Vec<_>>();
            let delta: Vec<i64> = if k == 0 {
                (0..BALANCE_LIMBS)
                    .map(|i| -fee[i] - if debits && token == 0 { amount[i] } else { 0 })
                    .collect()
            } else if debits && token == k {
                neg(&amount)
            } else {
                zero.clone()
            };
            if k == 0 || (debits && token == k) {
                carries(&block(&w.a.old, k), &delta, &block(&w.a.new, k), 0, row);
            }
        } else if r < B_AT && u == LEAF_BLOCKS - 1 {
            let old: Vec<Val> = w.a.old[nonce_at..nonce_at + NONCE_LIMBS].to_vec();
            let new: Vec<Val> = w.a.new[nonce_at..nonce_at + NONCE_LIMBS].to_vec();
            carries(
                &old,
                &[0; NONCE_LIMBS],
                &new,
                i64::from(kind.has_sender()),
                row,
            );
        } else if (B_AT..IDLE_ROW).contains(&r) && u < TOKENS && kind.has_receiver() && u == token {
            carries(&block(&w.b.old, u), &amount, &block(&w.b.new, u), 0, row);
        } else if r == FEE_ROW && kind != OpKind::FeeCredit {
            let fin: Vec<Val> = u128_limbs(fee_in).map(Val::from_u32).to_vec();
            let fout: Vec<Val> = u128_limbs(fee_out).map(Val::from_u32).to_vec();
            carries(&fin, &fee, &fout, 0, row);
        }
    }
    // Lanes: value RC + WINDOWS·L + w, most significant bit first, over window w.
    for lane in 0..LANES {
        for win in 0..WINDOWS {
            let v = carried[RC + WINDOWS * lane + win - KIND].as_canonical_u32();
            let mut acc = 0u32;
            for t in 0..LANE_BITS {
                let bit = (v >> (LANE_BITS - 1 - t)) & 1;
                acc = 2 * acc + bit;
                let row = &mut rows[(win * LANE_BITS + t) * WIDTH..][..WIDTH];
                row[LANE_BIT + lane] = Val::from_u32(bit);
                row[LANE_ACC + lane] = Val::from_u32(acc);
            }
        }
    }
}

/// One op's permutation inputs (old, new) and the roots after its legs.
type OpInputs = (Vec<[Val; 16]>, Vec<[Val; 16]>, Digest, Digest);

/// The fee total after an op (wrapping only for dishonest witnesses, which the AIR
/// then refuses).
fn fee_after(w: &OpWitness, fee_in: u128) -> u128 {
    match w.op.kind {
        OpKind::FeeCredit => 0,
        _ => fee_in.wrapping_add(w.op.fee),
    }
}

/// Builds the trace of a segment witness. The witness is not checked: a dishonest
/// one gives a trace that does not satisfy the AIR.
pub fn generate_trace(
    witness: &SegmentWitness,
    log_blowup: usize,
) -> Result<RowMajorMatrix<Val>, TraceError> {
    let ops = &witness.ops;
    if ops.len() < 2 || !ops.len().is_power_of_two() {
        return Err(TraceError::OpCount(ops.len()));
    }
    let out_of_tree = ops
        .iter()
        .flat_map(|o| [o.a.index, o.b.index])
        .find(|i| u64::from(*i) >= CAPACITY);
    if let Some(index) = out_of_tree {
        return Err(TraceError::IndexOutOfRange(index));
    }
    let rows = ops.len() * OP_ROWS;

    // Per group of ops, in parallel: the permutation inputs and the roots the legs
    // reach.
    let per_op: Vec<OpInputs> = ops
        .par_chunks(OPS_PER_GROUP)
        .flat_map_iter(|group| {
            let chains: Vec<_> = group
                .iter()
                .flat_map(|w| {
                    [
                        (&w.a.old, &w.a),
                        (&w.a.new, &w.a),
                        (&w.b.old, &w.b),
                        (&w.b.new, &w.b),
                    ]
                })
                .collect();
            let (inputs, roots) = chain_inputs(&chains);
            // Per op, its chains in the order above: leg A old, new; leg B old, new.
            inputs
                .chunks_exact(4)
                .zip(roots.chunks_exact(4))
                .map(|(i, r)| {
                    let old = i[0].iter().chain(&i[2]).copied().collect();
                    let new = i[1].iter().chain(&i[3]).copied().collect();
                    (old, new, r[1], r[3])
                })
                .collect::<Vec<_>>()
        })
        .collect();

    // In order: the running root, fee total and commitment state.
    let mut old_inputs = Vec::with_capacity(rows);
    let mut new_inputs = Vec::with_capacity(rows);
    let mut starts = Vec::with_capacity(ops.len());
    let mut root = witness.old_root;
    let mut fee_in = 0u128;
    let mut commit = witness.header.seed();
    for (i, (w, (old, new, a_root, b_root))) in ops.iter().zip(per_op).enumerate() {
        old_inputs.extend(old);
        new_inputs.extend(new);
        let (inputs, after) =
            commit_inputs(&commit, &w.op).map_err(|error| TraceError::Op { op: i, error })?;
        old_inputs.push([Val::ZERO; 16]);
        new_inputs.push([Val::ZERO; 16]);
        for pair in inputs.chunks_exact(2) {
            old_inputs.push(pair[0]);
            new_inputs.push(pair[1]);
        }
        starts.push(([root, a_root, b_root], fee_in, commit));
        root = b_root;
        fee_in = fee_after(w, fee_in);
        commit = after;
    }

    let constants = constants();
    let generate = |inputs: Vec<[Val; 16]>| {
        generate_trace_rows::<
            _,
            GenericPoseidon2LinearLayersKoalaBear,
            16,
            KOALABEAR_S_BOX_DEGREE,
            0,
            HALF_FULL,
            PARTIAL,
        >(inputs, &constants, 0)
    };
    let old = generate(old_inputs);
    let new = generate(new_inputs);
    // Zeroed in parallel (the first touch of ~128 MB of fresh pages is most of the
    // cost), with room for the LDE to extend in place; then each op's rows, its
    // permutation columns copied in the same pass.
    let mut values = Vec::with_capacity((rows * WIDTH) << log_blowup);
    values.par_extend((0..rows * WIDTH).into_par_iter().map(|_| Val::ZERO));
    let (old, new) = (old.values.as_slice(), new.values.as_slice());
    values
        .par_chunks_mut(OP_ROWS * WIDTH)
        .enumerate()
        .zip(ops.par_iter().zip(starts.par_iter()))
        .for_each(|((i, chunk), (w, (roots, fee_in, commit)))| {
            fill_op(w, roots, *fee_in, *commit, chunk);
            let perms = i * OP_ROWS * PERM_COLS..(i + 1) * OP_ROWS * PERM_COLS;
            let rows = chunk.chunks_exact_mut(WIDTH);
            let perm_rows = old[perms.clone()]
                .chunks_exact(PERM_COLS)
                .zip(new[perms].chunks_exact(PERM_COLS));
            for (row, (o, n)) in rows.zip(perm_rows) {
                row[OLD..OLD + PERM_COLS].copy_from_slice(o);
                row[NEW..NEW + PERM_COLS].copy_from_slice(n);
            }
        });
    Ok(RowMajorMatrix::new(values, WIDTH))
}
