//! A test harness for contract authors (as CosmWasm's `cw-multi-test`): deploy
//! and call contracts with the executor's own rules, runtime and fuel table on an
//! in-memory state, with no database, sequencer or devnet, and read what each
//! transaction did and cost.
//!
//! ```no_run
//! # use ghostplane_executor::harness::Harness;
//! # use ghostplane_primitives::TokenId;
//! let mut chain = Harness::new(3, [1 << 40; 4]).unwrap();
//! let code = std::fs::read("build/counter.wasm").unwrap();
//! let (counter, deployed) = chain.deploy(1, &code, &[]).unwrap();
//! let out = chain.call(2, counter, &[0], (TokenId::Gcc, 0)).unwrap();
//! println!("increment: {} fuel, {} GCC", out.gas_used, out.fee_paid);
//! let view = chain.view(counter, &[1]).unwrap(); // a read: nothing changes
//! ```
//!
//! - **What runs.** Each transaction is one item of a one-item block, run by
//!   [`crate::rules`] exactly as the executor runs it (fee, nonce, value, fuel,
//!   sub-calls, events, moves), on the executor's big-stack threads. Its writes
//!   are applied to the map; its fee is credited to account 0, as a block's fees
//!   are. Dropped transactions (a bad nonce, too little GCC) are errors and change
//!   nothing.
//! - **Accounts.** `accounts` development keys (`Keypair::dev(i)` is account `i`),
//!   each with `balances`. Senders are named by account index; the harness signs
//!   with their development key and uses their next nonce.
//! - **Fees.** A transaction offers up to 2^40 GCC (or the sender's balance, less
//!   a GCC value it carries) as its maximum fee; the report says what it was charged and how much fuel it used,
//!   at the harness's [`Prices`] (the devnet's by default).
//! - **Not the chain.** No proofs, no pubdata, no parallel scheduling, no block
//!   fuel bound (the block is one transaction); the block number rises by one a
//!   transaction and the time by one millisecond.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, Amount, BlockNumber, CALL_FUEL_MAX, ContractAddress, DEVNET_CHAIN_ID, Event,
    Keypair, ReceiptStatus, TokenId, Transaction,
};

use crate::block::{BlockItem, DropReason};
use crate::error::ExecError;
use crate::fees::Prices;
use crate::rules::{Env, execute_item};
use crate::state::{AccountRecord, StateKey, StateReader, StateValue, StoreError};
use crate::view::Overlay;
use crate::wasm::WasmRuntime;

/// Most fee a harness transaction offers (its maximum; the rest is refunded).
pub const HARNESS_FEE_MAX: Amount = 1 << 40;
/// The harness chain's start time (ms since the Unix epoch).
const START_MS: u64 = 1_700_000_000_000;

/// What one transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Success, or why it failed (its effects then rolled back; fee and nonce kept).
    pub status: ReceiptStatus,
    /// Return data.
    pub return_data: Vec<u8>,
    /// Events emitted (none if it failed).
    pub events: Vec<Event>,
    /// Fuel charged (the base and load charges included).
    pub gas_used: u64,
    /// GCC charged.
    pub fee_paid: Amount,
}

/// Why a harness transaction did not run.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The executor would drop it (no state change, no fee).
    #[error("dropped: {0}")]
    Dropped(DropReason),
    /// No such account in the harness.
    #[error("account {0} is not one of the harness's accounts")]
    UnknownAccount(u32),
    /// The runtime or state failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

impl From<StoreError> for HarnessError {
    fn from(e: StoreError) -> Self {
        Self::Exec(ExecError::Store(e))
    }
}

/// The in-memory state.
#[derive(Default)]
struct Memory(RwLock<HashMap<StateKey, StateValue>>);

impl StateReader for Memory {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        let map = self
            .0
            .read()
            .map_err(|_| StoreError::CodeStore("harness state lock poisoned".into()))?;
        Ok(map.get(key).cloned())
    }
}

/// Contracts on an in-memory chain (see the module docs).
pub struct Harness {
    state: Arc<Memory>,
    runtime: WasmRuntime,
    pool: rayon::ThreadPool,
    prices: Prices,
    accounts: u32,
    block: u64,
}

impl Harness {
    /// A chain of `accounts` development accounts, each holding `balances` (by
    /// token id), at the devnet's prices.
    pub fn new(accounts: u32, balances: [Amount; 4]) -> Result<Self, ExecError> {
        let mut map = HashMap::new();
        for i in 0..accounts {
            let id = AccountId::new(i).map_err(|e| ExecError::BadGenesis(e.to_string()))?;
            let key = Keypair::dev(i).public_key();
            map.insert(StateKey::KeyIndex(key), StateValue::AccountId(id));
            map.insert(
                StateKey::Account(id),
                StateValue::Account(AccountRecord::user(key)),
            );
            for token in TokenId::ALL {
                map.insert(
                    StateKey::Balance(id, token),
                    StateValue::Balance(balances[usize::from(token.id())]),
                );
            }
        }
        map.insert(StateKey::NextAccountId, StateValue::Counter(accounts));
        Ok(Self {
            state: Arc::new(Memory(RwLock::new(map))),
            runtime: WasmRuntime::new()?,
            pool: crate::executor::thread_pool(1)?,
            prices: Prices {
                data_price: 1,
                ..Prices::default()
            },
            accounts,
            block: 0,
        })
    }

    /// The same chain charging `prices`.
    pub fn with_prices(mut self, prices: Prices) -> Self {
        self.prices = prices;
        self
    }

    /// Deploys `code` from account `from`, running its `init` with `init`;
    /// returns the contract's address and what the deploy did.
    pub fn deploy(
        &mut self,
        from: u32,
        code: &[u8],
        init: &[u8],
    ) -> Result<(ContractAddress, Outcome), HarnessError> {
        let (id, nonce, fee) = self.sender(from)?;
        let tx = Transaction::Deploy {
            from: id,
            code: code.to_vec(),
            init: init.to_vec(),
            token: TokenId::Gcc,
            value: 0,
            fee,
            nonce,
        };
        Ok((contract_address(id, nonce), self.run(from, tx, true)?))
    }

    /// Calls `contract` from account `from` with `input`, carrying `value` of
    /// `token` to it.
    pub fn call(
        &mut self,
        from: u32,
        contract: ContractAddress,
        input: &[u8],
        (token, value): (TokenId, Amount),
    ) -> Result<Outcome, HarnessError> {
        let tx = self.call_tx(from, contract, input, (token, value))?;
        self.run(from, tx, true)
    }

    /// What a call from account 0 would do now, with nothing kept (a read call:
    /// its writes, moves and fee are discarded).
    pub fn view(&self, contract: ContractAddress, input: &[u8]) -> Result<Outcome, HarnessError> {
        let tx = self.call_tx(0, contract, input, (TokenId::Gcc, 0))?;
        self.execute(0, tx).map(|(outcome, _)| outcome)
    }

    /// Account `account`'s balance of `token`.
    pub fn balance(&self, account: u32, token: TokenId) -> Result<Amount, HarnessError> {
        let id = AccountId::new(account).map_err(|_| HarnessError::UnknownAccount(account))?;
        Ok(match self.state.get(&StateKey::Balance(id, token))? {
            Some(StateValue::Balance(amount)) => amount,
            _ => 0,
        })
    }

    /// A contract's balance of `token`.
    pub fn contract_balance(
        &self,
        contract: ContractAddress,
        token: TokenId,
    ) -> Result<Amount, HarnessError> {
        match self.state.get(&StateKey::Contract(contract))? {
            Some(StateValue::Contract(record)) => Ok(
                match self.state.get(&StateKey::Balance(record.account, token))? {
                    Some(StateValue::Balance(amount)) => amount,
                    _ => 0,
                },
            ),
            _ => Ok(0),
        }
    }

    /// One storage slot of a contract (`None`: absent).
    pub fn storage(
        &self,
        contract: ContractAddress,
        key: [u8; 32],
    ) -> Result<Option<Vec<u8>>, HarnessError> {
        Ok(match self.state.get(&StateKey::Storage(contract, key))? {
            Some(StateValue::Bytes(bytes)) => Some(bytes.to_vec()),
            _ => None,
        })
    }

    fn call_tx(
        &self,
        from: u32,
        contract: ContractAddress,
        input: &[u8],
        (token, value): (TokenId, Amount),
    ) -> Result<Transaction, HarnessError> {
        let (id, nonce, fee) = self.sender(from)?;
        // A GCC value stays out of the maximum fee (it must be there to move).
        let fee = match token {
            TokenId::Gcc => fee.min(self.balance(from, TokenId::Gcc)?.saturating_sub(value)),
            _ => fee,
        };
        Ok(Transaction::Call {
            from: id,
            contract,
            input: input.to_vec(),
            token,
            value,
            fuel_limit: CALL_FUEL_MAX,
            fee,
            nonce,
        })
    }

    /// Account `from`'s id, next nonce and the fee it offers.
    fn sender(&self, from: u32) -> Result<(AccountId, u64, Amount), HarnessError> {
        if from >= self.accounts {
            return Err(HarnessError::UnknownAccount(from));
        }
        let id = AccountId::new(from).map_err(|_| HarnessError::UnknownAccount(from))?;
        let nonce = match self.state.get(&StateKey::Account(id))? {
            Some(StateValue::Account(record)) => record.nonce,
            _ => return Err(HarnessError::UnknownAccount(from)),
        };
        let fee = self.balance(from, TokenId::Gcc)?.min(HARNESS_FEE_MAX);
        Ok((id, nonce, fee))
    }

    /// Runs `tx` and, if `keep`, applies its writes and credits its fee.
    fn run(&mut self, from: u32, tx: Transaction, keep: bool) -> Result<Outcome, HarnessError> {
        self.block += 1;
        let (outcome, writes) = self.execute(from, tx)?;
        if keep {
            let mut map = self
                .state
                .0
                .write()
                .map_err(|_| StoreError::CodeStore("harness state lock poisoned".into()))?;
            for (key, value) in writes {
                match value {
                    Some(value) => map.insert(key, value),
                    None => map.remove(&key),
                };
            }
            let fee_key = StateKey::Balance(AccountId::ZERO, TokenId::Gcc);
            let collected = match map.get(&fee_key) {
                Some(StateValue::Balance(amount)) => *amount,
                _ => 0,
            };
            map.insert(
                fee_key,
                StateValue::Balance(collected.saturating_add(outcome.fee_paid)),
            );
        }
        Ok(outcome)
    }

    fn execute(
        &self,
        from: u32,
        tx: Transaction,
    ) -> Result<(Outcome, Vec<crate::StateWrite>), HarnessError> {
        let item = BlockItem::transaction(Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx));
        let env = Env {
            runtime: &self.runtime,
            block: BlockNumber(self.block.max(1)),
            timestamp_ms: START_MS + self.block,
            prices: self.prices,
            block_fuel_max: u64::MAX,
        };
        let base: Arc<dyn StateReader> = Arc::clone(&self.state) as Arc<dyn StateReader>;
        let (outcome, _) = self
            .pool
            .install(|| execute_item(&env, &item, base, Overlay::default()))?;
        let included = outcome.result.map_err(HarnessError::Dropped)?;
        Ok((
            Outcome {
                status: included.status,
                return_data: included.return_data,
                events: included.events,
                gas_used: included.gas_used,
                fee_paid: included.fee_paid,
            },
            outcome.writes,
        ))
    }
}
