//! The project-wide JSON-RPC error codes. Each code means one thing, whichever
//! server (L2 `l2_*`, ghostd `ghost_*`/`ledger_*`/`rollup_*`, coordinator
//! `prover_*`) returns it. Codes are stable: clients may match on them.
//!
//! | code | name | meaning |
//! | --- | --- | --- |
//! | -32602 | `INVALID_PARAMS` | a parameter is missing or unreadable |
//! | -32603 | `INTERNAL` | the server failed behind the query (storage); retry or report |
//! | -32001 | `TOO_LARGE` | the transaction is over the size limit |
//! | -32002 | `MALFORMED` | not hex, or not a valid encoding |
//! | -32003 | `INVALID` | a stateless check failed (zero amount, self transfer, …) |
//! | -32004 | `WRONG_CHAIN` | signed for another chain id |
//! | -32005 | `BAD_SIGNATURE` | the signature does not verify |
//! | -32006 | `UNKNOWN_SENDER` | the sending L2 account does not exist |
//! | -32007 | `SIGNER_MISMATCH` | the signer does not own the sending account |
//! | -32008 | `CONTRACTS_UNSUPPORTED` | a contract transaction on a rollup whose proof backend (Groth16) takes none |
//! | -32010 | `NONCE_TOO_LOW` | the nonce was already used |
//! | -32011 | `NONCE_GAP` | the nonce is too far ahead of the next one |
//! | -32012 | `REPLACEMENT_UNDERPRICED` | same nonce pending with a fee at least as high |
//! | -32013 | `ALREADY_KNOWN` | this transaction is already pending or included |
//! | -32014 | `FEE_BELOW_MINIMUM` | the fee is below the current minimum |
//! | -32015 | `NONCE_PENDING` | another transaction with this nonce is pending (the L1 replaces none) |
//! | -32020 | `SENDER_POOL_FULL` | this sender has too many pending transactions |
//! | -32021 | `POOL_FULL` | the pool (mempool) is full; retry later |
//! | -32022 | `BUSY` | a pipeline stage is behind; retry after the hint |
//! | -32023 | `SETTLEMENT_BEHIND` | proving is behind execution; retry after the hint |
//! | -32024 | `SETTLEMENT_STOPPED` | settlement stopped for good (exit mode, contracts diverged): nothing new is taken |
//! | -32030 | `UNAVAILABLE` | the service is shutting down or failed; `l2_getProof`: no finalized batch yet, no prover tree here, or the tree is not at the L1's root (retry) |
//! | -32040 | `CALL_REFUSED` | the L1 call would fail against the current state (overdraft, stale batch, …) |
//! | -32050 | `UNKNOWN_CONTRACT` | no contract is deployed at the address (`l2_call`, `l2_getStorage`) |
//! | -32051 | `FUEL_TOO_HIGH` | a read call asked for more fuel than the node's read-call limit |
//! | -32052 | `INPUT_TOO_LARGE` | a read call's input is over the call-input limit |
//! | -32053 | `WOULD_BE_DROPPED` | a deploy or call's fee estimate: it would not be included (unknown sender, a contract as sender, too little GCC) |
//! | -32101 | `CIRCUIT_MISMATCH` | the worker proves another statement or parameters |
//! | -32102 | `UNKNOWN_WORKER` | the worker session is unknown or expired |
//! | -32103 | `TOO_MANY_WORKERS` | the coordinator has its most workers |
//! | -32104 | `NOT_LEASED` | the job is not leased to this worker |
//! | -32105 | `BAD_PROOF` | the submitted proof does not verify |
//! | -32106 | `QUEUE_FULL` | the job queue is full |
//! | -32107 | `TOKEN_MISSING` | the worker gave no token |
//! | -32108 | `TOKEN_REJECTED` | the worker token is not valid |
//! | -32109 | `BANNED` | the worker is banned for a while |
//! | -32110 | `SUSPENDED` | the worker is suspended for a while |

/// A parameter is missing or unreadable (JSON-RPC standard).
pub const INVALID_PARAMS: i32 = -32602;
/// The server failed behind the query (JSON-RPC standard "internal error").
pub const INTERNAL: i32 = -32603;

/// The transaction is over the size limit.
pub const TOO_LARGE: i32 = -32001;
/// Not hex, or not a valid encoding.
pub const MALFORMED: i32 = -32002;
/// A stateless check failed.
pub const INVALID: i32 = -32003;
/// Signed for another chain id.
pub const WRONG_CHAIN: i32 = -32004;
/// The signature does not verify.
pub const BAD_SIGNATURE: i32 = -32005;
/// The sending L2 account does not exist.
pub const UNKNOWN_SENDER: i32 = -32006;
/// The signer does not own the sending account.
pub const SIGNER_MISMATCH: i32 = -32007;
/// A contract transaction (deploy or call) on a rollup whose genesis proof backend
/// takes none (Groth16: native transfers only).
pub const CONTRACTS_UNSUPPORTED: i32 = -32008;
/// The nonce was already used.
pub const NONCE_TOO_LOW: i32 = -32010;
/// The nonce is too far ahead of the sender's next nonce.
pub const NONCE_GAP: i32 = -32011;
/// The same nonce is pending with a fee at least as high.
pub const REPLACEMENT_UNDERPRICED: i32 = -32012;
/// The transaction is already pending or included.
pub const ALREADY_KNOWN: i32 = -32013;
/// The fee is below the current minimum.
pub const FEE_BELOW_MINIMUM: i32 = -32014;
/// Another transaction with this nonce is pending and cannot be replaced.
pub const NONCE_PENDING: i32 = -32015;
/// This sender has too many pending transactions.
pub const SENDER_POOL_FULL: i32 = -32020;
/// The pool is full.
pub const POOL_FULL: i32 = -32021;
/// A pipeline stage is behind.
pub const BUSY: i32 = -32022;
/// Proving is behind execution.
pub const SETTLEMENT_BEHIND: i32 = -32023;
/// Settlement stopped for good (exit mode, contracts diverged).
pub const SETTLEMENT_STOPPED: i32 = -32024;
/// The service is shutting down or failed.
pub const UNAVAILABLE: i32 = -32030;
/// The L1 call would fail against the current state.
pub const CALL_REFUSED: i32 = -32040;
/// No contract is deployed at the address.
pub const UNKNOWN_CONTRACT: i32 = -32050;
/// A read call asked for more fuel than the read-call limit.
pub const FUEL_TOO_HIGH: i32 = -32051;
/// A read call's input is over the call-input limit.
pub const INPUT_TOO_LARGE: i32 = -32052;
/// A fee estimate's transaction would not be included.
pub const WOULD_BE_DROPPED: i32 = -32053;

/// The worker proves another statement or parameters.
pub const CIRCUIT_MISMATCH: i32 = -32101;
/// The worker session is unknown or expired.
pub const UNKNOWN_WORKER: i32 = -32102;
/// The coordinator has its most workers.
pub const TOO_MANY_WORKERS: i32 = -32103;
/// The job is not leased to this worker.
pub const NOT_LEASED: i32 = -32104;
/// The submitted proof does not verify.
pub const BAD_PROOF: i32 = -32105;
/// The job queue is full.
pub const QUEUE_FULL: i32 = -32106;
/// The worker gave no token.
pub const TOKEN_MISSING: i32 = -32107;
/// The worker token is not valid.
pub const TOKEN_REJECTED: i32 = -32108;
/// The worker is banned for a while.
pub const BANNED: i32 = -32109;
/// The worker is suspended for a while.
pub const SUSPENDED: i32 = -32110;

/// Every code above, for the uniqueness test.
pub const ALL: &[i32] = &[
    INVALID_PARAMS,
    INTERNAL,
    TOO_LARGE,
    MALFORMED,
    INVALID,
    WRONG_CHAIN,
    BAD_SIGNATURE,
    UNKNOWN_SENDER,
    SIGNER_MISMATCH,
    CONTRACTS_UNSUPPORTED,
    NONCE_TOO_LOW,
    NONCE_GAP,
    REPLACEMENT_UNDERPRICED,
    ALREADY_KNOWN,
    FEE_BELOW_MINIMUM,
    NONCE_PENDING,
    SENDER_POOL_FULL,
    POOL_FULL,
    BUSY,
    SETTLEMENT_BEHIND,
    SETTLEMENT_STOPPED,
    UNAVAILABLE,
    CALL_REFUSED,
    UNKNOWN_CONTRACT,
    FUEL_TOO_HIGH,
    INPUT_TOO_LARGE,
    WOULD_BE_DROPPED,
    CIRCUIT_MISMATCH,
    UNKNOWN_WORKER,
    TOO_MANY_WORKERS,
    NOT_LEASED,
    BAD_PROOF,
    QUEUE_FULL,
    TOKEN_MISSING,
    TOKEN_REJECTED,
    BANNED,
    SUSPENDED,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_has_one_meaning() {
        let mut seen = std::collections::HashSet::new();
        for code in super::ALL {
            assert!(seen.insert(code), "code {code} is used twice");
        }
        let doc = include_str!("codes.rs");
        for code in super::ALL {
            assert!(
                doc.contains(&format!("| {code} |")),
                "code {code} is missing from the table"
            );
        }
    }
}
