//! # ghostplane-executor
//!
//! Turns an ordered L2 block into receipts, native ops and a state diff, using every
//! core, with exactly the result of executing the block one item at a time.
//!
//! ## Data flow
//!
//! ```text
//! BlockInput (ordered, signatures already verified by the sequencer)
//!   │
//!   ├─ hints: keys each native tx declares (sender, recipient, balances)
//!   │         a tx whose declared keys an earlier tx writes is not speculated
//!   ├─ phase 1 (rayon, N threads): speculative execution of the rest against the
//!   │         committed snapshot; each records its read set and write set
//!   ├─ phase 2 (one thread, in order): a tx whose reads an earlier tx of the block
//!   │         wrote is re-executed against snapshot + block overlay; its writes
//!   │         join the overlay
//!   ├─ fees: summed as commutative deltas, credited to the fee account after the
//!   │         last item (so the fee account never serializes the block)
//!   ▼
//! BlockOutput: header (chained execution digest), receipts, dropped txs, native ops
//!   │          (PubdataOp), contract storage diff, sorted writes
//!   ▼ Executor::commit
//! StateStore: one RocksDB WriteBatch per block (sync), then the in-memory cache
//! ```
//!
//! ## Rules (what a transaction costs)
//!
//! - **Dropped** (no receipt, no state change, no fee): unknown sender, a contract
//!   account as sender, signer key is not the sender's key, nonce is not exactly the account nonce, GCC balance below
//!   the (maximum) fee, a stateless check fails, or a transfer to a new key offers
//!   less than `fee_min` plus
//!   [`ACCOUNT_CREATION_FEE`](ghostplane_primitives::ACCOUNT_CREATION_FEE).
//! - **Included and failed**: the nonce is consumed and the fee charged; every other
//!   effect is rolled back; the receipt carries a typed
//!   [`FailureReason`](ghostplane_primitives::FailureReason). For native
//!   ops the fee is the transaction's `fee`; for deploys and calls the transaction's
//!   `fee` is a maximum, the charge is fuel used × `fuel_price`, and the rest is
//!   refunded.
//! - **Transfer** to an account id needs the account to exist; to a new key it
//!   creates the account with the next free id (fails if the key has an account, is
//!   not a valid ed25519 point, or the next id is in the deposit reserve: ids from
//!   [`TRANSFER_ACCOUNT_ID_LIMIT`](ghostplane_primitives::TRANSFER_ACCOUNT_ID_LIMIT)
//!   up are made only by deposits, so a deposit always finds one). **Withdraw** debits the sender and emits the op the
//!   L1 releases on finality. **Deposit** credits (creating the account if needed).
//! - Balances never underflow or overflow: every debit and credit is checked.
//! - **Contracts** run in wasmtime with fuel as gas (see [`wasm`] for the ABI, the
//!   fuel table, the determinism settings and every bound); a revert or trap rolls
//!   back the call's storage writes and events. A deploy runs the module's `init`
//!   export, if any, with the deploy's init input; a failing `init` deploys nothing.
//!   Contracts are accounts: a deploy creates the contract's account (the next free
//!   id, a leaf of the proven tree like a user's), a deploy or call may carry a
//!   value of one token to it, and its code reads its balances and moves tokens
//!   (`transfer`, `call_with_value`); each move is a `ContractMove` op, proven as a
//!   transfer from the contract's leaf, whose nonce counts them.
//!   Contracts call each other (`call`): a failed callee's effects (storage, events,
//!   moves) roll back and the caller gets a status; re-entrancy is allowed; at most
//!   [`wasm::CONTRACT_CALL_DEPTH_MAX`] nested calls, each forwarding at most 63/64 of
//!   the fuel left (see [`wasm`], "Calls between contracts"). Bulk memory and table operations pay
//!   per byte or element; every call pays a load charge proportional to its code
//!   length, whether or not this node had the module compiled.
//! - Before compiling, every module is **rewritten** the same way on every node
//!   ([`wasm::instrument`], part of consensus): a counter limits nested calls to
//!   [`wasm::WASM_CALL_DEPTH_MAX`], so recursion traps at the same depth whatever the
//!   host's CPU or native stack; deploy refuses functions with more locals or a
//!   deeper operand stack than the bounds that keep the native stack a backstop.
//!
//! ## Invariants
//!
//! - Parallel execution with any thread count gives the same output as
//!   [`Executor::execute_sequential`] (property-tested with 1, 2 and 4 threads).
//! - Execution does not change the store; only [`Executor::commit`] does, atomically.
//! - No receipt depends on node-local state: the compiled-module cache (an LRU bounded
//!   in bytes) changes how much a node compiles, never a result or a fee.
//! - Contracts run only on executor threads, whose native stack
//!   (`WASM_STACK_BYTES_MAX` + `HOST_STACK_BYTES`) holds the deepest call allowed.
//! - The executor trusts that each transaction's signature was verified for the
//!   chain id (the sequencer batch-verifies at ingest, the L1 re-verifies the
//!   pubdata); it checks that the signer key owns the sending account.
//!
//! ## Layout
//!
//! - [`executor`]: [`Executor`] (open, genesis, execute, commit) and the block
//!   output it assembles (receipts, fees, sorted writes, the execution digest).
//! - `scheduler`: which items to speculate, and the windowed speculate /
//!   in-order phases.
//! - [`logs`]: the event index (written with each block's commit) and its
//!   bounded, paged queries.
//! - [`harness`]: contracts on an in-memory chain, for contract authors' tests.
//! - [`readcall`]: read calls (`l2_call`): a contract run against committed state
//!   on a pool of its own, its effects discarded.
//! - [`reexecute`]: one contract transaction re-run from its pubdata trace (what
//!   every L1 validator does at commit).
//! - [`rules`]: what one item does to state; [`wasm`]: the contract runtime;
//!   [`store`], [`state`]: the committed state; [`block`]: the block types.

pub mod block;
mod error;
pub mod executor;
pub mod fees;
pub mod harness;
pub mod logs;
pub mod readcall;
pub mod reexecute;
pub mod rules;
mod scheduler;
pub mod state;
pub mod store;
mod view;
pub mod wasm;

pub use block::{BlockInput, BlockItem, BlockOutput, DropReason, DroppedTx};
pub use error::ExecError;
pub use executor::{
    ARTIFACTS_DIR, BLOCK_ITEMS_MAX, Executor, ExecutorConfig, PARALLEL_ITEMS_MIN_DEFAULT,
};
pub use fees::{FeeParts, Prices};
pub use logs::{Log, LogFilter, LogPage, LogPosition, LogQueryError};
pub use readcall::{FeeEstimate, ReadCall, ReadCallError, ReadCaller, ReadOutcome, ReadPermit};
pub use reexecute::{Reexecuted, ReexecutionJob, ReexecutionStore, Reexecutor};
pub use state::{
    AccountRecord, ContractRecord, StateKey, StateReader, StateValue, StateWrite, StoreError,
};
pub use store::{BlockFees, QueuesNext, Snapshot, StateStore, StoreReader};
pub use wasm::{RuntimeError, WasmRuntime};
