//! Every fuzz target, CI-sized: a few thousand cases each (the heavy ones fewer),
//! with allocation counted. `cargo run --release -p ghostplane-fuzz` runs millions.

use ghostplane_fuzz::targets::TARGETS;
use ghostplane_fuzz::{CountingAlloc, run};

#[global_allocator]
static ALLOC: CountingAlloc<std::alloc::System> = CountingAlloc(std::alloc::System);

/// Cases per target in CI.
fn cases(target: &str) -> u64 {
    match target {
        // A block is executed every 32 calls; a module is compiled per case.
        "l1-calls" | "wasm-deploy" => 1_000,
        _ => 3_000,
    }
}

/// One test, so that nothing else allocates while a case is measured.
#[test]
fn every_target_survives_its_ci_run() {
    a_broken_property_is_reported();
    let mut failed = Vec::new();
    for target in TARGETS {
        let report = run(target, cases(target.name), 7).unwrap();
        assert!(report.alloc_checked, "the counting allocator is installed");
        println!(
            "target={} cases={} accepted={} failures={} alloc_peak_bytes={}",
            report.target, report.cases, report.accepted, report.failures, report.alloc_peak
        );
        if report.accepted == 0 {
            failed.push(format!("{}: no input got past the decoder", target.name));
        }
        if let Some(first) = report.first {
            failed.push(format!(
                "{}: case {}: {} (input {} bytes)",
                target.name,
                first.case,
                first.reason,
                first.input.len()
            ));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

fn a_broken_property_is_reported() {
    // The runner itself: a harness that panics on one byte is caught and counted.
    struct Picky;
    impl ghostplane_fuzz::Harness for Picky {
        fn seeds(&self) -> Vec<Vec<u8>> {
            vec![vec![0; 8]]
        }
        fn run(&mut self, input: &[u8]) -> Result<bool, String> {
            assert!(!input.contains(&0xff), "0xff");
            Ok(true)
        }
        fn alloc_bound(&self, _: usize) -> usize {
            usize::MAX
        }
    }
    let target = ghostplane_fuzz::Target {
        name: "picky",
        about: "",
        make: || Ok(Box::new(Picky)),
    };
    // Its panics are expected: keep them out of the log.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let report = run(&target, 2_000, 1);
    std::panic::set_hook(hook);
    let Ok(report) = report else {
        panic!("the runner failed to start a trivial harness");
    };
    assert!(report.failures > 0);
    let reason = report.first.map(|f| f.reason).unwrap_or_default();
    assert!(reason.contains("0xff"), "{reason}");
}
