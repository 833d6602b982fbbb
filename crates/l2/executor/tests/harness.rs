//! The contract authors' harness (`ghostplane_executor::harness`): contracts
//! deployed and called on an in-memory chain by the executor's own rules, with
//! fuel and fee reports, reads that change nothing, and drops as errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use ghostplane_executor::Prices;
use ghostplane_executor::harness::{Harness, HarnessError};
use ghostplane_primitives::{FailureReason, ReceiptStatus, TokenId};

fn wat(name: &str) -> Vec<u8> {
    wat::parse_file(format!(
        "{}/contracts/{name}.wat",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const FUNDS: u128 = 1 << 50;

#[test]
fn contracts_run_on_an_in_memory_chain_with_fuel_reports() {
    let mut chain = Harness::new(4, [FUNDS; 4]).unwrap();
    let (counter, deployed) = chain.deploy(1, &wat("counter"), &[]).unwrap();
    assert_eq!(deployed.status, ReceiptStatus::Success);
    assert!(deployed.gas_used > 0 && deployed.fee_paid > deployed.gas_used.into());
    let first = chain.call(2, counter, &[], (TokenId::Gcc, 0)).unwrap();
    assert_eq!(first.status, ReceiptStatus::Success);
    let second = chain.call(3, counter, &[], (TokenId::Gcc, 0)).unwrap();
    assert_ne!(first.return_data, second.return_data);
    // Fuel at 1 GCC each, plus its pubdata at the devnet's data price of 1.
    assert!(second.gas_used > 0);
    assert!(second.fee_paid > u128::from(second.gas_used), "{second:?}");
    // A read changes nothing.
    let view = chain.view(counter, &[]).unwrap();
    assert_eq!(view.status, ReceiptStatus::Success);
    let again = chain.view(counter, &[]).unwrap();
    assert_eq!(view.return_data, again.return_data);
    // Fees went from the senders to account 0, to the unit.
    let paid = deployed.fee_paid + first.fee_paid + second.fee_paid;
    assert_eq!(chain.balance(0, TokenId::Gcc).unwrap(), FUNDS + paid);
    assert_eq!(
        chain.balance(1, TokenId::Gcc).unwrap(),
        FUNDS - deployed.fee_paid
    );
}

#[test]
fn value_moves_reverts_roll_back_and_drops_are_errors() {
    let mut chain = Harness::new(4, [FUNDS; 4]).unwrap().with_prices(Prices {
        fuel_price: 2,
        fee_min: 1,
        data_price: 0,
    });
    // An escrow: seller 2, arbiter 3; account 1 funds it with 7,000 GHOST.
    let init = [2u32.to_le_bytes(), 3u32.to_le_bytes()].concat();
    let (escrow, _) = chain.deploy(1, &wat("escrow"), &init).unwrap();
    let funded = chain
        .call(1, escrow, &[0x01], (TokenId::Ghost, 7_000))
        .unwrap();
    assert_eq!(funded.status, ReceiptStatus::Success);
    assert_eq!(funded.fee_paid, 2 * u128::from(funded.gas_used));
    assert_eq!(
        chain.contract_balance(escrow, TokenId::Ghost).unwrap(),
        7_000
    );
    // A stranger cannot release it; the revert keeps the value where it is.
    let refused = chain.call(2, escrow, &[0x02], (TokenId::Gcc, 0)).unwrap();
    assert_eq!(
        refused.status,
        ReceiptStatus::Failed(FailureReason::Revert(b"unauthorized".to_vec()))
    );
    let released = chain.call(3, escrow, &[0x02], (TokenId::Gcc, 0)).unwrap();
    assert_eq!(released.status, ReceiptStatus::Success);
    assert_eq!(chain.balance(2, TokenId::Ghost).unwrap(), FUNDS + 7_000);
    assert_eq!(chain.contract_balance(escrow, TokenId::Ghost).unwrap(), 0);
    let mut status_key = [0u8; 32];
    status_key[0] = 2;
    assert_eq!(chain.storage(escrow, status_key).unwrap().unwrap()[0], 2);
    // Unknown senders are errors, and change nothing.
    assert!(matches!(
        chain.call(9, escrow, &[0x04], (TokenId::Gcc, 0)),
        Err(HarnessError::UnknownAccount(9))
    ));
}
