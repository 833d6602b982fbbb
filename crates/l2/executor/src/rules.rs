//! The state-transition rules for one block item: native ops, deploys, calls and
//! deposits. Pure functions of the view they are given.

use std::sync::Arc;

use ghostplane_primitives::block::Event;
use ghostplane_primitives::keys::validate_public_key;
use ghostplane_primitives::tx::{code_hash, contract_account_key, contract_address};
use ghostplane_primitives::{
    ACCOUNT_CREATION_FEE, AccountId, Amount, BlockNumber, CALL_FUEL_MAX, ContractAddress,
    ContractTrace, DepositEvent, FailureReason, ForcedWithdrawalEvent, Hash32, PubdataOp,
    ReceiptStatus, Recipient, SignedTransaction, TRANSFER_ACCOUNT_ID_LIMIT, TokenId, Transaction,
};

use crate::ExecError;
use crate::block::{BlockItem, DropReason};
use crate::fees::{self, Prices};
use crate::state::{
    AccountRecord, ContractRecord, StateKey, StateReader, StateValue, StateWrite, StoreError,
};
use crate::view::{Overlay, TxView};
use crate::wasm::{BlockEnv, Entry, WasmRuntime};

/// Fuel charged for any deploy, before its bytes.
pub const DEPLOY_FUEL_BASE: u64 = 100_000;
/// Fuel charged per byte of deployed code (validation and compilation).
pub const DEPLOY_FUEL_PER_BYTE: u64 = 50;
/// Fuel charged for any call on top of what the contract burns (lookup, instantiation).
pub const CALL_FUEL_BASE: u64 = 1_000;

/// Block-wide inputs to the rules.
pub(crate) struct Env<'a> {
    pub(crate) runtime: &'a WasmRuntime,
    pub(crate) block: BlockNumber,
    pub(crate) timestamp_ms: u64,
    /// The genesis's prices (fuel, minimum fee, pubdata: see [`crate::fees`]).
    pub(crate) prices: Prices,
    /// Most fuel the block's contract code may be given, all transactions together.
    pub(crate) block_fuel_max: u64,
}

/// What including an item did.
#[derive(Debug, Clone)]
pub(crate) struct Included {
    pub(crate) status: ReceiptStatus,
    pub(crate) gas_used: u64,
    pub(crate) fee_paid: Amount,
    pub(crate) events: Vec<Event>,
    pub(crate) return_data: Vec<u8>,
    /// Its pubdata op (a deploy or call's is its `FeeOnly`)…
    pub(crate) op: Option<PubdataOp>,
    /// …followed, for a deploy or call, by its `ContractTrace` (kept apart so that a
    /// native transaction allocates no list)…
    pub(crate) trace: Option<PubdataOp>,
    /// …and its contracts' `ContractMove`s.
    pub(crate) moves: Vec<PubdataOp>,
}

impl Included {
    /// An L1 event's inclusion (deposit, forced withdrawal): always a success,
    /// no fee, no receipt data, one op.
    fn l1_event(op: PubdataOp) -> Self {
        Self {
            status: ReceiptStatus::Success,
            gas_used: 0,
            fee_paid: 0,
            events: Vec::new(),
            return_data: Vec::new(),
            trace: None,
            moves: Vec::new(),
            op: Some(op),
        }
    }

    /// Its pubdata ops, in order.
    pub(crate) fn ops(&self) -> impl Iterator<Item = &PubdataOp> {
        self.op.iter().chain(&self.trace).chain(&self.moves)
    }
}

/// The result of executing one item against one view.
#[derive(Debug, Clone)]
pub(crate) struct ItemOutcome {
    pub(crate) result: Result<Included, DropReason>,
    pub(crate) reads: Vec<StateKey>,
    pub(crate) writes: Vec<StateWrite>,
}

/// Executes `item` on top of `base` and `overlay`; returns the outcome and the
/// overlay (moved through the view so contract calls can own it).
pub(crate) fn execute_item(
    env: &Env<'_>,
    item: &BlockItem,
    base: Arc<dyn StateReader>,
    overlay: Overlay,
) -> Result<(ItemOutcome, Overlay), ExecError> {
    let mut view = TxView::new(base, overlay);
    let result = match item {
        BlockItem::Transaction { tx, .. } => transaction(env, tx, &mut view),
        BlockItem::Deposit(deposit) => deposit_item(deposit, &mut view).map(Ok),
        BlockItem::ForcedWithdrawal(forced) => forced_item(forced, &mut view).map(Ok),
    };
    let result = result?;
    let (overlay, reads, writes) = match &result {
        Ok(_) => view.into_parts(),
        Err(_) => {
            // A dropped transaction leaves no trace, but what it read still decided
            // that it was dropped.
            let (overlay, reads, _) = view.into_parts();
            (overlay, reads, Vec::new())
        }
    };
    Ok((
        ItemOutcome {
            result,
            reads,
            writes,
        },
        overlay,
    ))
}

fn transaction(
    env: &Env<'_>,
    signed: &SignedTransaction,
    view: &mut TxView,
) -> Result<Result<Included, DropReason>, ExecError> {
    let tx = &signed.tx;
    if let Err(e) = tx.check_stateless() {
        return Ok(Err(DropReason::Stateless(e)));
    }
    // Every transaction offers at least its floor: a native one its execution and
    // pubdata; a deploy or call `fee_min` and the pubdata of its own bytes (its
    // fee is a maximum, charged after it ran).
    let floor = fees::floor(env.prices, tx).total;
    if tx.fee() < floor {
        let offered = tx.fee();
        return Ok(Err(match tx {
            Transaction::Transfer {
                to: Recipient::NewAccount(_),
                ..
            } => DropReason::AccountCreationFee {
                offered,
                min: floor,
            },
            _ => DropReason::FeeBelowMinimum {
                offered,
                min: floor,
            },
        }));
    }
    let from = tx.from();
    if tx.is_contract() {
        view.record_balances();
    }
    let Some((account, contract)) = view.account_kind(from)? else {
        return Ok(Err(DropReason::UnknownSender(from)));
    };
    if contract {
        return Ok(Err(DropReason::ContractSender(from)));
    }
    if account.public_key != signed.signer {
        return Ok(Err(DropReason::SignerMismatch(from)));
    }
    if account.nonce != tx.nonce() {
        return Ok(Err(DropReason::BadNonce {
            expected: account.nonce,
            got: tx.nonce(),
        }));
    }
    let fee = tx.fee();
    let gcc = view.balance(from, TokenId::Gcc)?;
    if gcc < fee {
        return Ok(Err(DropReason::CannotPayFee {
            needed: fee,
            available: gcc,
        }));
    }
    // Valid signature, key, nonce and fee: from here on the transaction is included.
    // The nonce is consumed and the (maximum) fee taken before anything else, so a
    // failure below keeps exactly these two effects.
    view.put(
        StateKey::Account(from),
        Some(StateValue::Account(AccountRecord {
            nonce: account.nonce + 1,
            ..account
        })),
    );
    view.set_balance(from, TokenId::Gcc, gcc - fee);
    let savepoint = view.savepoint();

    let included = match tx {
        Transaction::Transfer { .. } | Transaction::Withdraw { .. } => {
            match native(signed, view)? {
                Ok(op) => Included {
                    status: ReceiptStatus::Success,
                    gas_used: 0,
                    fee_paid: fee,
                    events: Vec::new(),
                    return_data: Vec::new(),
                    op: Some(op),
                    trace: None,
                    moves: Vec::new(),
                },
                Err(reason) => {
                    view.rollback(savepoint);
                    Included {
                        status: ReceiptStatus::Failed(reason),
                        gas_used: 0,
                        fee_paid: fee,
                        events: Vec::new(),
                        return_data: Vec::new(),
                        op: Some(fee_only(signed, fee)),
                        trace: None,
                        moves: Vec::new(),
                    }
                }
            }
        }
        Transaction::Deploy { code, nonce, .. } => {
            let fuel = DEPLOY_FUEL_BASE + DEPLOY_FUEL_PER_BYTE * code.len() as u64;
            // A deploy creates an account (a leaf for good): it pays the account
            // creation fee on top of its fuel, as a transfer to a new key does.
            // It also reserves the pubdata of its own bytes (its code).
            let needed = Amount::from(fuel)
                .saturating_mul(env.prices.fuel_price)
                .saturating_add(ACCOUNT_CREATION_FEE)
                .saturating_add(reserve(env, &signed.tx));
            let mut run = ContractRun::default();
            if fee < needed {
                run.status = ReceiptStatus::Failed(FailureReason::FeeTooLow {
                    needed,
                    offered: fee,
                });
            } else {
                let hash = code_hash(code);
                match env.runtime.validate(hash, code) {
                    Ok(()) => {
                        let address = contract_address(from, *nonce);
                        let init_fuel =
                            u64::try_from((fee - needed) / env.prices.fuel_price.max(1))
                                .unwrap_or(u64::MAX)
                                .min(CALL_FUEL_MAX);
                        run = deploy(env, view, signed, address, hash, init_fuel)?;
                        if run.status == ReceiptStatus::Success {
                            run.surcharge = ACCOUNT_CREATION_FEE;
                        } else {
                            view.rollback(savepoint.clone());
                        }
                    }
                    Err(reason) => {
                        run.status = ReceiptStatus::Failed(FailureReason::InvalidModule(reason));
                    }
                }
            }
            run.gas_used += fuel;
            run.charge(env, view, signed)?
        }
        Transaction::Call {
            contract,
            input,
            fuel_limit,
            ..
        } => {
            let fuel_affordable = u64::try_from(
                fee.saturating_sub(reserve(env, &signed.tx)) / env.prices.fuel_price.max(1),
            )
            .unwrap_or(u64::MAX);
            let fuel = (*fuel_limit)
                .min(fuel_affordable)
                .saturating_sub(CALL_FUEL_BASE);
            let record = match view.get(&StateKey::Contract(*contract))? {
                Some(StateValue::Contract(record)) => Some(record),
                _ => None,
            };
            let mut run = ContractRun {
                fuel,
                ..ContractRun::default()
            };
            match record {
                None => {
                    run.status = ReceiptStatus::Failed(FailureReason::UnknownContract(*contract));
                }
                Some(_) if fuel == 0 => {
                    run.status = ReceiptStatus::Failed(FailureReason::OutOfFuel { fuel_used: 0 });
                }
                Some(record) => {
                    let target = Target {
                        address: *contract,
                        record,
                    };
                    run = enter(env, view, signed, target, Entry::Call, input, fuel)?;
                    if run.status != ReceiptStatus::Success {
                        view.rollback(savepoint.clone());
                    }
                }
            }
            run.gas_used += CALL_FUEL_BASE;
            run.charge(env, view, signed)?
        }
    };
    Ok(Ok(included))
}

/// A deploy whose fee covers its code and whose module is valid: creates the
/// contract's account and records, then [`enter`]s its `init` (if it has one).
/// On failure the caller rolls the view back.
fn deploy(
    env: &Env<'_>,
    view: &mut TxView,
    signed: &SignedTransaction,
    address: ContractAddress,
    hash: Hash32,
    init_fuel: u64,
) -> Result<ContractRun, ExecError> {
    let Transaction::Deploy { code, init, .. } = &signed.tx else {
        return Err(ExecError::NotAContractTransaction);
    };
    let failed = |reason| ContractRun {
        status: ReceiptStatus::Failed(reason),
        ..ContractRun::default()
    };
    // Contract accounts come from the same id space as transfers' new accounts.
    if view.next_account_id()? >= TRANSFER_ACCOUNT_ID_LIMIT {
        return Ok(failed(FailureReason::AccountsExhausted));
    }
    let Some(account) = create_contract_account(view, &address)? else {
        return Ok(failed(FailureReason::AccountsExhausted));
    };
    let record = ContractRecord {
        code_hash: hash,
        account,
    };
    view.put(
        StateKey::Contract(address),
        Some(StateValue::Contract(record)),
    );
    view.put(
        StateKey::Code(hash),
        Some(StateValue::Bytes(Arc::from(code.as_slice()))),
    );
    let target = Target { address, record };
    // Without an `init` export no code runs (fuel 0): only the value moves.
    let has_init = env.runtime.has_init(view, hash)?;
    if !has_init && !init.is_empty() {
        return Ok(failed(FailureReason::InvalidModule(
            "init input given, but the module exports no `init`".into(),
        )));
    }
    let fuel = if has_init { init_fuel } else { 0 };
    let mut run = enter(env, view, signed, target, Entry::Init, init, fuel)?;
    if run.status == ReceiptStatus::Success {
        run.return_data = address.0.to_vec();
    }
    Ok(run)
}

/// The contract a transaction enters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) address: ContractAddress,
    pub(crate) record: ContractRecord,
}

/// Moves the transaction's value (if any) to `target`'s account, then runs `entry`
/// of its code with `input` and `fuel` (fuel 0: runs nothing; a deploy without
/// `init`). The view is left as the run left it; on failure the caller rolls it
/// back.
fn enter(
    env: &Env<'_>,
    view: &mut TxView,
    signed: &SignedTransaction,
    target: Target,
    entry: Entry,
    input: &[u8],
    fuel: u64,
) -> Result<ContractRun, ExecError> {
    let from = signed.tx.from();
    let value = signed.tx.value();
    let mut run = ContractRun {
        fuel,
        ..ContractRun::default()
    };
    if let Some((token, amount)) = value
        && let Err(reason) = pay(view, from, target.record.account, token, amount)?
    {
        run.status = ReceiptStatus::Failed(reason);
        return Ok(run);
    }
    if fuel == 0 {
        run.contract = Some(target.record.account);
        return Ok(run);
    }
    // The run owns the view while it runs (wasmtime store data is 'static); an
    // error here aborts the whole block, so the empty stand-in is never read.
    let owned = std::mem::replace(view, empty_view());
    let call = env.runtime.call(
        owned,
        target,
        entry,
        from,
        BlockEnv {
            number: env.block,
            time_ms: env.timestamp_ms,
        },
        input.to_vec(),
        value,
        fuel,
    )?;
    *view = call.ctx.view;
    run.fuel_used = call.fuel_used;
    match call.outcome {
        Ok(()) => {
            run.contract = Some(target.record.account);
            run.events = call.ctx.events;
            run.return_data = call.ctx.return_data;
            run.moves = call.ctx.moves;
        }
        Err(reason) => run.status = ReceiptStatus::Failed(reason),
    }
    Ok(run)
}

/// Moves `amount` of `token` from `from` to `to` (which must exist), checking the
/// payer's balance and the receiver's overflow before writing either.
fn pay(
    view: &mut TxView,
    from: AccountId,
    to: AccountId,
    token: TokenId,
    amount: Amount,
) -> Step<()> {
    if view.account(to)?.is_none() {
        return Ok(Err(FailureReason::UnknownAccount(to)));
    }
    let paying = view.balance(from, token)?;
    let Some(paying) = paying.checked_sub(amount) else {
        return Ok(Err(FailureReason::InsufficientBalance {
            token,
            needed: amount,
            available: paying,
        }));
    };
    let Some(receiving) = view.balance(to, token)?.checked_add(amount) else {
        return Ok(Err(FailureReason::BalanceOverflow { token, account: to }));
    };
    view.set_balance(from, token, paying);
    view.set_balance(to, token, receiving);
    Ok(Ok(()))
}

/// A token move by contract account `from` (the `transfer` host function, or the
/// value of a contract-to-contract call): [`pay`], then the contract's nonce counts
/// the move, as its leaf's does when the move is proven. Gives the move's op.
pub(crate) fn contract_move(
    view: &mut TxView,
    from: AccountId,
    to: AccountId,
    token: TokenId,
    amount: Amount,
) -> Step<PubdataOp> {
    if let Err(reason) = pay(view, from, to, token, amount)? {
        return Ok(Err(reason));
    }
    let Some(record) = view.account(from)? else {
        return Ok(Err(FailureReason::UnknownAccount(from)));
    };
    view.put(
        StateKey::Account(from),
        Some(StateValue::ContractAccount(AccountRecord {
            nonce: record.nonce.saturating_add(1),
            ..record
        })),
    );
    Ok(Ok(PubdataOp::ContractMove {
        from,
        to,
        token,
        amount,
    }))
}

/// Gives the contract at `address` the next free account id, with its key field
/// ([`contract_account_key`]). Unlike a user's key, it is not indexed: a deposit to
/// it cannot reach the contract (nor, made before the deploy, block it).
fn create_contract_account(
    view: &mut TxView,
    address: &ContractAddress,
) -> Result<Option<AccountId>, StoreError> {
    let next = view.next_account_id()?;
    let Ok(id) = AccountId::new(next) else {
        return Ok(None);
    };
    view.put(
        StateKey::Account(id),
        Some(StateValue::ContractAccount(AccountRecord::user(
            contract_account_key(address),
        ))),
    );
    view.put(StateKey::NextAccountId, Some(StateValue::Counter(next + 1)));
    Ok(Some(id))
}

/// A view with nothing behind it, left as a stand-in while a call owns the real one.
fn empty_view() -> TxView {
    TxView::new(Arc::new(crate::wasm::EmptyState), Overlay::default())
}

/// What a deploy or a call did, before it is charged for the fuel it used.
struct ContractRun {
    status: ReceiptStatus,
    /// Fuel its contract code was given (a call's, or a deploy's `init`).
    fuel: u64,
    /// Fuel its code burnt.
    fuel_used: u64,
    /// Fuel charged for: the code's, plus the deploy's or call's fixed part.
    gas_used: u64,
    events: Vec<Event>,
    return_data: Vec<u8>,
    /// The contract's account, if the deploy or call succeeded.
    contract: Option<AccountId>,
    /// Its contracts' token moves (`ContractMove` ops), in execution order.
    moves: Vec<PubdataOp>,
    /// GCC charged on top of the fuel: a successful deploy's account creation fee.
    surcharge: Amount,
}

impl Default for ContractRun {
    fn default() -> Self {
        Self {
            status: ReceiptStatus::Success,
            fuel: 0,
            fuel_used: 0,
            gas_used: 0,
            events: Vec::new(),
            return_data: Vec::new(),
            contract: None,
            moves: Vec::new(),
            surcharge: 0,
        }
    }
}

impl ContractRun {
    /// Charges the sender for `gas_used` at the block's fuel price (at least
    /// `fee_min`, plus the surcharge, at most the fee it offered), refunds the rest of the fee taken up
    /// front, and records the transaction as its op (`ContractTx` if it succeeded,
    /// else `FeeOnly`, with the fee it paid), its `ContractTrace` (what it read,
    /// wrote and emitted, for the L1 to re-execute) and its moves.
    fn charge(
        mut self,
        env: &Env<'_>,
        view: &mut TxView,
        signed: &SignedTransaction,
    ) -> Result<Included, StoreError> {
        self.gas_used += self.fuel_used;
        let fee = signed.tx.fee();
        let trace = ContractTrace {
            block: env.block,
            time_ms: env.timestamp_ms,
            fuel: self.fuel,
            gas_used: self.gas_used,
            status: self.status.clone(),
            reads: view.storage_reads.clone(),
            writes: view.storage_writes(),
            balances: view.balance_reads.clone(),
            events: self.events.clone(),
        };
        let pubdata_bytes = if env.prices.data_price == 0 {
            0
        } else {
            fees::contract_pubdata_bytes(
                &signed.tx,
                self.contract.is_some(),
                &trace,
                self.moves.len(),
            )
        };
        let charged = fees::contract_charge(
            env.prices,
            self.gas_used,
            self.surcharge,
            pubdata_bytes,
            fee,
        )
        .total;
        refund(view, signed.tx.from(), fee - charged)?;
        let op = match self.contract {
            Some(contract) => PubdataOp::ContractTx {
                fee_paid: charged,
                contract,
                tx: signed.tx.clone(),
                signature: signed.signature,
            },
            None => fee_only(signed, charged),
        };
        Ok(Included {
            status: self.status,
            gas_used: self.gas_used,
            fee_paid: charged,
            events: self.events,
            return_data: self.return_data,
            op: Some(op),
            trace: Some(PubdataOp::ContractTrace(Box::new(trace))),
            moves: self.moves,
        })
    }
}

/// The fee a deploy or call reserves for the pubdata of its own bytes.
fn reserve(env: &Env<'_>, tx: &Transaction) -> Amount {
    if env.prices.data_price == 0 {
        return 0;
    }
    env.prices
        .data_price
        .saturating_mul(Amount::from(fees::contract_reserve_bytes(tx)))
}

/// Gives `from` back `refund` GCC of the maximum fee taken up front (its GCC may
/// have moved since: a GCC value, a contract paying it).
fn refund(view: &mut TxView, from: AccountId, refund: Amount) -> Result<(), StoreError> {
    if refund > 0 {
        let gcc = view.balance(from, TokenId::Gcc)?;
        view.set_balance(from, TokenId::Gcc, gcc.saturating_add(refund));
    }
    Ok(())
}

fn fee_only(signed: &SignedTransaction, fee_paid: Amount) -> PubdataOp {
    PubdataOp::FeeOnly {
        fee_paid,
        tx: signed.tx.clone(),
        signature: signed.signature,
    }
}

/// Transfer and withdraw bodies (fee and nonce already applied).
fn native(signed: &SignedTransaction, view: &mut TxView) -> Step<PubdataOp> {
    let signature = signed.signature;
    match &signed.tx {
        Transaction::Transfer {
            from,
            to,
            token,
            amount,
            fee,
            ..
        } => {
            let (from, token, amount, fee) = (*from, *token, *amount, *fee);
            let (to_id, created) = match to {
                Recipient::Account(to) => {
                    if view.account(*to)?.is_none() {
                        return Ok(Err(FailureReason::UnknownAccount(*to)));
                    }
                    (*to, None)
                }
                Recipient::NewAccount(key) => {
                    if view.account_of(key)?.is_some() {
                        return Ok(Err(FailureReason::AccountExists(*key)));
                    }
                    if validate_public_key(key).is_err() {
                        return Ok(Err(FailureReason::InvalidPublicKey(*key)));
                    }
                    // The last ids are kept for deposits, so that a deposit always
                    // finds one (the L1 bounds new-key deposits by what is left).
                    if view.next_account_id()? >= TRANSFER_ACCOUNT_ID_LIMIT {
                        return Ok(Err(FailureReason::AccountsExhausted));
                    }
                    match create_account(view, key)? {
                        Some(id) => (id, Some(*key)),
                        None => return Ok(Err(FailureReason::AccountsExhausted)),
                    }
                }
            };
            if let Err(reason) = debit(view, from, token, amount)? {
                return Ok(Err(reason));
            }
            if let Err(reason) = credit(view, to_id, token, amount)? {
                return Ok(Err(reason));
            }
            Ok(Ok(match created {
                None => PubdataOp::Transfer {
                    from,
                    to: to_id,
                    token,
                    amount,
                    fee,
                    signature,
                },
                Some(to_key) => PubdataOp::TransferToNew {
                    from,
                    to: to_id,
                    to_key,
                    token,
                    amount,
                    fee,
                    signature,
                },
            }))
        }
        Transaction::Withdraw {
            from,
            to,
            token,
            amount,
            fee,
            ..
        } => {
            if let Err(reason) = debit(view, *from, *token, *amount)? {
                return Ok(Err(reason));
            }
            Ok(Ok(PubdataOp::Withdraw {
                from: *from,
                to: *to,
                token: *token,
                amount: *amount,
                fee: *fee,
                signature,
            }))
        }
        Transaction::Deploy { .. } | Transaction::Call { .. } => {
            Ok(Err(FailureReason::Trap("not a native transaction".into())))
        }
    }
}

/// What a step of a native transaction gives: a store failure, a refusal with its
/// reason (the transaction fails), or its value.
type Step<T> = Result<Result<T, FailureReason>, StoreError>;

/// Takes `amount` of `token` from account `id`; refused when its balance is lower.
fn debit(view: &mut TxView, id: AccountId, token: TokenId, amount: Amount) -> Step<()> {
    change_balance(view, id, token, |balance| {
        balance
            .checked_sub(amount)
            .ok_or(FailureReason::InsufficientBalance {
                token,
                needed: amount,
                available: balance,
            })
    })
}

/// Gives `amount` of `token` to account `id`; refused when its balance would overflow.
fn credit(view: &mut TxView, id: AccountId, token: TokenId, amount: Amount) -> Step<()> {
    change_balance(view, id, token, |balance| {
        balance
            .checked_add(amount)
            .ok_or(FailureReason::BalanceOverflow { token, account: id })
    })
}

/// Sets `id`'s balance of `token` to `change(balance)`; leaves it when `change`
/// refuses.
fn change_balance(
    view: &mut TxView,
    id: AccountId,
    token: TokenId,
    change: impl FnOnce(Amount) -> Result<Amount, FailureReason>,
) -> Step<()> {
    let balance = view.balance(id, token)?;
    Ok(change(balance).map(|new| view.set_balance(id, token, new)))
}

/// Gives `key` the next free account id; `None` if the tree is full.
fn create_account(
    view: &mut TxView,
    key: &ghostplane_primitives::PublicKey,
) -> Result<Option<AccountId>, StoreError> {
    let next = view.next_account_id()?;
    let Ok(id) = AccountId::new(next) else {
        return Ok(None);
    };
    view.put(
        StateKey::Account(id),
        Some(StateValue::Account(AccountRecord::user(*key))),
    );
    view.put(StateKey::KeyIndex(*key), Some(StateValue::AccountId(id)));
    view.put(StateKey::NextAccountId, Some(StateValue::Counter(next + 1)));
    Ok(Some(id))
}

/// Credits an L1 deposit, creating the account if the key has none.
///
/// A deposit cannot fail on L2: the L1 validates the key when the deposit is queued,
/// and no balance can overflow because each token's total supply fits in a u128.
///
/// Nor can the tree be full: transfers create ids only below
/// [`TRANSFER_ACCOUNT_ID_LIMIT`], the L1 refuses the commit of any batch whose
/// transfer creates one above it, and it queues a deposit to a key it has not seen
/// only while `max(next_account, TRANSFER_ACCOUNT_ID_LIMIT)` plus the new-key
/// deposits still queued stays within
/// [`ACCOUNT_ID_LIMIT`](ghostplane_primitives::ACCOUNT_ID_LIMIT). A full tree or an
/// overflow here is therefore a broken invariant, and a block error: the node stops
/// rather than lose the deposit (pubdata has no op that could hand it back to the
/// L1 for a refund).
fn deposit_item(deposit: &DepositEvent, view: &mut TxView) -> Result<Included, ExecError> {
    let id = match view.account_of(&deposit.recipient)? {
        Some(id) => id,
        None => create_account(view, &deposit.recipient)?.ok_or(ExecError::AccountsExhausted {
            queue_index: deposit.queue_index,
        })?,
    };
    if credit(view, id, deposit.token, deposit.amount)?.is_err() {
        return Err(ExecError::DepositOverflow {
            queue_index: deposit.queue_index,
        });
    }
    Ok(Included::l1_event(PubdataOp::Deposit {
        queue_index: deposit.queue_index,
        to: id,
        to_key: deposit.recipient,
        token: deposit.token,
        amount: deposit.amount,
    }))
}

/// Pays a forced withdrawal: `min(requested, balance)` of the token, no fee, the
/// nonce kept. It cannot fail: the L1 queued it for a user's account it knows
/// from committed state (which this state extends), and the amount is at most
/// the balance. `full` says the whole balance went (the proof binds it to zero).
fn forced_item(forced: &ForcedWithdrawalEvent, view: &mut TxView) -> Result<Included, ExecError> {
    if !matches!(view.account_kind(forced.account)?, Some((_, false))) {
        return Err(ExecError::ForcedAccount {
            queue_index: forced.queue_index,
            account: forced.account,
        });
    }
    let balance = view.balance(forced.account, forced.token)?;
    let amount = forced.amount.min(balance);
    view.set_balance(forced.account, forced.token, balance - amount);
    Ok(Included::l1_event(PubdataOp::ForcedWithdraw {
        queue_index: forced.queue_index,
        from: forced.account,
        to: forced.recipient,
        token: forced.token,
        amount,
        full: amount == balance,
    }))
}

/// Keys an item is known to read and write before it runs: the scheduler's hints.
/// Contract storage is not known in advance and is not listed.
pub(crate) fn declared_keys(item: &BlockItem, out: &mut Vec<StateKey>) {
    match item {
        BlockItem::Transaction { tx, .. } => {
            let from = tx.tx.from();
            out.push(StateKey::Account(from));
            out.push(StateKey::Balance(from, TokenId::Gcc));
            match &tx.tx {
                Transaction::Transfer { to, token, .. } => {
                    out.push(StateKey::Balance(from, *token));
                    match to {
                        Recipient::Account(to) => {
                            out.push(StateKey::Account(*to));
                            out.push(StateKey::Balance(*to, *token));
                        }
                        Recipient::NewAccount(key) => {
                            out.push(StateKey::KeyIndex(*key));
                            out.push(StateKey::NextAccountId);
                        }
                    }
                }
                Transaction::Withdraw { token, .. } => out.push(StateKey::Balance(from, *token)),
                Transaction::Deploy { .. } | Transaction::Call { .. } => {}
            }
        }
        BlockItem::Deposit(deposit) => {
            out.push(StateKey::KeyIndex(deposit.recipient));
            out.push(StateKey::NextAccountId);
        }
        BlockItem::ForcedWithdrawal(forced) => {
            out.push(StateKey::Account(forced.account));
            out.push(StateKey::Balance(forced.account, forced.token));
        }
    }
}
