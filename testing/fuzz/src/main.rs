//! `ghostplane-fuzz --target T --cases N [--seed S]`: runs fuzz targets and prints
//! `target=… cases=… failures=…` per target; exits 1 if any case failed.

use clap::Parser;
use ghostplane_fuzz::targets::{TARGETS, find};
use ghostplane_fuzz::{CountingAlloc, run};

#[global_allocator]
static ALLOC: CountingAlloc<mimalloc::MiMalloc> = CountingAlloc(mimalloc::MiMalloc);

/// Structured fuzzing of Ghostplane's decoders and entry points.
#[derive(Parser)]
#[command(name = "ghostplane-fuzz")]
struct Args {
    /// A target's name, or `all`; `--list` names them.
    #[arg(long, default_value = "all")]
    target: String,
    /// Cases per target.
    #[arg(long, default_value_t = 10_000)]
    cases: u64,
    /// The run's seed (the same seed replays the same inputs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Lists the targets and exits.
    #[arg(long)]
    list: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.list {
        for target in TARGETS {
            println!("{:14} {}", target.name, target.about);
        }
        return std::process::ExitCode::SUCCESS;
    }
    let targets: Vec<_> = if args.target == "all" {
        TARGETS.iter().collect()
    } else {
        match find(&args.target) {
            Some(target) => vec![target],
            None => {
                eprintln!("no target {:?}; `--list` names them", args.target);
                return std::process::ExitCode::from(2);
            }
        }
    };
    // A panic is a failure the report carries (the first one, with its input);
    // the default hook would print every one.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = false;
    for target in targets {
        let started = std::time::Instant::now();
        match run(target, args.cases, args.seed) {
            Ok(report) => {
                println!(
                    "target={} cases={} accepted={} failures={} alloc_peak_bytes={} secs={:.1}",
                    report.target,
                    report.cases,
                    report.accepted,
                    report.failures,
                    report.alloc_peak,
                    started.elapsed().as_secs_f64()
                );
                if let Some(first) = report.first {
                    failed = true;
                    eprintln!(
                        "  first failure: case {}: {}\n  input: {}",
                        first.case,
                        first.reason,
                        hex::encode(&first.input)
                    );
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("target={}: setup failed: {e}", target.name);
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
