//! Chunk proofs: statements rebuilt from the committed batch, verified in
//! parallel; on the last chunk the batch is final and its withdrawals released (a
//! leg that cannot be posted is recorded, see [`unpaid_withdrawal`], and does not
//! stop finality).

use ghostplane_primitives::{BatchNumber, FieldBytes};
use ghostplane_prover::{ChunkHeader, ProofBackend, Statement};
use rayon::prelude::*;

use super::{RollupError, RollupGenesis, batch, batch_key, state_key, status, unpaid_key};
use ghostd_ledger::{self as ledger, LedgerError, LedgerTransfer, TransferCode};
use ghostd_module::state::Layer;

/// Verifies chunk proofs of the oldest unfinalized batch, from chunk `first_chunk`
/// (the next unproven one) on, and finalizes the batch once all its chunks are
/// proven, releasing its withdrawals. Each statement is rebuilt here: the roots
/// chain from the last proven one, the header and `C` come from the commit.
#[allow(clippy::too_many_arguments)]
pub fn prove_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    backend: &dyn ProofBackend,
    number: u64,
    first_chunk: u32,
    chunk_roots: &[FieldBytes],
    proofs: &[Vec<u8>],
    l1_block: u64,
    log: &crate::verify_log::VerifyLog,
) -> Result<(), RollupError> {
    let mut st = status(state)?;
    if number != st.finalized + 1 || number > st.committed {
        return Err(RollupError::ProveOrder {
            expected: st.finalized + 1,
            got: number,
            committed: st.committed,
        });
    }
    if first_chunk != st.proving_chunks {
        return Err(RollupError::ChunkOrder {
            expected: st.proving_chunks,
            got: first_chunk,
        });
    }
    let mut record = batch(state, number)?.ok_or(RollupError::NoState)?;
    let chunks = record.commitments.len();
    let left = chunks - (first_chunk as usize).min(chunks);
    if chunk_roots.len() != proofs.len() || proofs.is_empty() || proofs.len() > left {
        return Err(RollupError::ProofCount {
            chunks: left,
            roots: chunk_roots.len(),
            proofs: proofs.len(),
        });
    }
    let mut previous = st.proving_root;
    let statements: Vec<Statement> = chunk_roots
        .iter()
        .enumerate()
        .map(|(i, root)| {
            let chunk = first_chunk as usize + i;
            let statement = Statement {
                header: ChunkHeader {
                    chain_id: genesis.l2_chain_id,
                    batch: BatchNumber(number),
                    chunk_index: chunk as u32,
                    fee_account: record.fee_account,
                },
                old_root: previous,
                new_root: *root,
                commitment: record.commitments[chunk],
                slots: record.slots[chunk],
            };
            previous = *root;
            statement
        })
        .collect();
    // Chunks are independent statements: verify them in parallel.
    let verdicts: Vec<Result<(), String>> = statements
        .par_iter()
        .zip(proofs)
        .map(|(statement, proof)| {
            let started = std::time::Instant::now();
            backend
                .verify(statement, proof)
                .map_err(|e| e.to_string())?;
            let chunk = statement.header.chunk_index;
            log.record(number, chunk, started.elapsed(), proof.len());
            Ok(())
        })
        .collect();
    if let Some((i, Err(reason))) = verdicts.into_iter().enumerate().find(|(_, v)| v.is_err()) {
        return Err(RollupError::BadProof {
            chunk: first_chunk as usize + i,
            reason,
        });
    }
    let proven = first_chunk as usize + proofs.len();
    if proven < chunks {
        st.proving_chunks = proven as u32;
        st.proving_root = previous;
        state.put(state_key(), &st);
        return Ok(());
    }
    if previous != record.new_root {
        return Err(RollupError::RootMismatch {
            expected: record.new_root,
            got: previous,
        });
    }
    for (i, withdrawal) in record.withdrawals.iter().enumerate() {
        // A withdrawal to the escrow itself leaves the funds where they are (burned
        // for the L2); posting it would be a same-account transfer, refused.
        if withdrawal.to == ledger::bridge_escrow() {
            continue;
        }
        let transfer = LedgerTransfer::posted(
            ledger::system_transfer_id(&[
                b"withdrawal",
                &number.to_be_bytes(),
                &(i as u64).to_be_bytes(),
            ]),
            ledger::bridge_escrow(),
            withdrawal.to,
            withdrawal.token,
            withdrawal.amount,
            TransferCode::Withdrawal,
            l1_block,
        );
        // Each leg on its own layer: one that cannot be posted is recorded and
        // skipped, never a reason to refuse the proof, since batches finalize in
        // order and one stuck batch would stop every later one. With the supply cap
        // and wrapping volume counters no leg should fail; a local storage error
        // still aborts.
        let mut leg = Layer::new(state);
        match ledger::post(&mut leg, &transfer) {
            Ok(_) => {
                let writes = leg.into_writes();
                state.absorb(writes);
            }
            Err(LedgerError::State(e)) => return Err(e.into()),
            Err(e) => {
                drop(leg);
                state.put(unpaid_key(number, i as u32), &e.code());
            }
        }
    }
    record.finalized_at = Some(l1_block);
    state.put(batch_key(number), &record);
    crate::revert::finalized(state, number);
    st.finalized = number;
    st.finalized_root = record.new_root;
    st.proving_chunks = 0;
    st.proving_root = record.new_root;
    st.finalized_l2_block = record.last_block;
    // Finality moved: the next waiting batch's clock starts now.
    st.unproven_since = (st.committed > number).then_some(l1_block);
    state.put(state_key(), &st);
    Ok(())
}
