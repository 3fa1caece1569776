//! The fuzzing benchmark: for each target, executions per second with snapshot reset against fresh instantiation + initialization per input (SQLite's initialization fills a database; kvconf is a whole WASI program), and the engine's slowdown with its coverage and comparison hooks on and with its sanitizer on.
//!
//! `cargo bench -p capicola-tests --bench fuzz [-- [--smoke] [NAME...]]`: names keep only the targets whose name
//! contains one of them (default: sqlite, zlib, bzip2, tlvconf, kvconf, crashdemo). `--smoke` (or `CAPICOLA_BENCH_SMOKE=1`)
//! runs a tiny budget, to check the benchmark itself.

#[path = "fuzz_support/mod.rs"]
mod fuzz_support;

use std::time::Duration;

use capicola_tests::c_programs::{build_fuzz_target, workspace_root};
use capicola_tests::capicola_bin;
use fuzz_support::{Budget, Subject, measure, print};

const TARGETS: &[&str] = &["sqlite", "zlib", "bzip2", "tlvconf", "kvconf", "crashdemo"];

fn subject(name: &str) -> Subject {
    Subject {
        name: name.to_string(),
        wasm: build_fuzz_target(name),
        seeds: workspace_root().join("corpora").join(name),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; other flags are ours.
    let smoke = args.iter().any(|a| a == "--smoke")
        || std::env::var_os("CAPICOLA_BENCH_SMOKE").is_some_and(|v| v != "0");
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let budget = if smoke {
        Budget {
            campaign_runs: 300,
            fresh_campaign_time: Duration::from_secs(2),
            min_time: Duration::from_millis(200),
        }
    } else {
        Budget {
            campaign_runs: 5000,
            fresh_campaign_time: Duration::from_secs(30),
            min_time: Duration::from_secs(3),
        }
    };
    let selected: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| names.is_empty() || names.iter().any(|n| t.contains(n.as_str())))
        .collect();
    println!(
        "capicola fuzzing benchmark: campaigns of {} execs (seed 1; fresh-instance campaigns stop after {} s), \
         per-input measurements of at least {:.1} s",
        budget.campaign_runs,
        budget.fresh_campaign_time.as_secs(),
        budget.min_time.as_secs_f64()
    );
    println!("load average at start: {}", load_average());
    let bin = capicola_bin();
    let work = tempfile::tempdir().expect("temporary folder");
    let mut reports = Vec::new();
    for name in selected {
        let subject = subject(name);
        eprintln!("measuring {name} ...");
        reports.push(measure(&bin, &subject, &budget, work.path()));
    }
    print(&reports);
    println!();
    println!("load average at end: {}", load_average());
}

/// The machine's 1/5/15-minute load averages (other jobs skew every figure).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}
