//! Real C libraries as fuzz targets: every harness built from a library fetched from crates.io (zlib, bzip2, SQLite) runs its seeds cleanly and, in a short seeded campaign of a fixed number of executions, reaches edges its seeds alone do not; and the fuzzing benchmark's code runs on a tiny budget.

#[path = "../benches/fuzz_support/mod.rs"]
mod fuzz_support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use capicola_tests::c_programs::{build_harness, library_harnesses, workspace_root};
use capicola_tests::capicola_bin;
use fuzz_support::{Budget, Subject};
use predicates::prelude::*;

/// Executions of each campaign: enough for every harness to go past its seeds, few enough for a debug build.
const RUNS: u64 = 1500;

/// The number after `key: ` in a campaign's `stats` file.
fn stat(stats: &str, key: &str) -> u64 {
    stats
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in the stats file:\n{stats}"))
}

/// Builds the harness, replays its seeds, fuzzes it; returns a description of what went wrong, if anything.
fn check_harness(name: &str, work: &Path) -> Result<String, String> {
    let wasm = build_harness(name);
    let seeds = workspace_root().join("corpora").join(name);
    let seed_count = std::fs::read_dir(&seeds)
        .map_err(|e| format!("{name}: no seed corpus at {}: {e}", seeds.display()))?
        .count();
    if seed_count == 0 {
        return Err(format!("{name}: {} is empty", seeds.display()));
    }
    // Every seed is an input the library accepts without trapping.
    let replay = Command::new(capicola_bin())
        .arg("replay")
        .arg(&wasm)
        .arg(&seeds)
        .output()
        .expect("capicola can be started");
    let text = String::from_utf8_lossy(&replay.stdout).into_owned();
    if !replay.status.success() || text.matches("ok (exit code 0)").count() != seed_count {
        return Err(format!("{name}: not every seed runs cleanly:\n{text}"));
    }
    let out = work.join(name);
    let fuzz = Command::new(capicola_bin())
        .arg("fuzz")
        .arg(&wasm)
        .arg("-i")
        .arg(&seeds)
        .arg("-o")
        .arg(&out)
        .args(["--runs", &RUNS.to_string(), "--seed", "1", "-q"])
        .output()
        .expect("capicola can be started");
    let summary = String::from_utf8_lossy(&fuzz.stdout).into_owned();
    if !fuzz.status.success() {
        return Err(format!(
            "{name}: the campaign failed:\n{summary}{}",
            String::from_utf8_lossy(&fuzz.stderr)
        ));
    }
    let stats = std::fs::read_to_string(out.join("stats")).map_err(|e| format!("{name}: {e}"))?;
    let (found, from_seeds) = (
        stat(&stats, "edges_found"),
        stat(&stats, "seed_edges_found"),
    );
    if stat(&stats, "engine_bugs") > 0 {
        return Err(format!("{name}: the engine panicked:\n{stats}"));
    }
    if from_seeds == 0 || found <= from_seeds {
        return Err(format!(
            "{name}: {RUNS} executions reached {found} edges, the seeds alone {from_seeds}:\n{stats}"
        ));
    }
    Ok(format!(
        "{name}: {from_seeds} edges from the seeds, {found} after {RUNS} executions"
    ))
}

#[test]
fn every_library_harness_goes_past_its_seeds_in_a_short_seeded_campaign() {
    let names = library_harnesses();
    assert!(
        names.len() >= 3,
        "expected at least three real-library harnesses in harnesses/, found {names:?}"
    );
    let work = tempfile::tempdir().expect("temporary folder");
    // Side by side: SQLite's first build (about a minute) overlaps the smaller libraries' campaigns.
    capicola_tests::check_side_by_side(&names, |name| check_harness(name, work.path()));
}

#[test]
fn the_summary_and_the_stats_file_tell_the_seed_coverage_apart() {
    let wasm = build_harness("tlvconf");
    let work = tempfile::tempdir().expect("temporary folder");
    let out = work.path().join("out");
    Command::new(capicola_bin())
        .arg("fuzz")
        .arg(&wasm)
        .arg("-i")
        .arg(workspace_root().join("corpora/tlvconf"))
        .arg("-o")
        .arg(&out)
        .args(["--runs", "2000", "--seed", "1", "-q"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"edges: +\d+ of \d+ covered \(\d+ by the initial inputs\)")
                .expect("a valid regex"),
        );
    let stats = std::fs::read_to_string(out.join("stats")).expect("stats written");
    assert!(stat(&stats, "seed_edges_found") > 0, "{stats}");
    assert!(stat(&stats, "seed_edges_found") <= stat(&stats, "edges_found"));
}

#[test]
fn the_fuzzing_benchmark_measures_a_target_on_a_tiny_budget() {
    let subject = Subject {
        name: "tlvconf".into(),
        wasm: build_harness("tlvconf"),
        seeds: workspace_root().join("corpora/tlvconf"),
    };
    let budget = Budget {
        campaign_runs: 300,
        fresh_campaign_time: Duration::from_secs(1),
        min_time: Duration::from_millis(50),
    };
    let work = tempfile::tempdir().expect("temporary folder");
    let report = fuzz_support::measure(&capicola_bin(), &subject, &budget, work.path());
    assert!(report.inputs > 0);
    assert!(report.campaign.execs >= 300 && report.fresh_campaign.execs > 0);
    assert!(report.fresh.execs > 0 && report.reset.execs >= report.fresh.execs);
    assert_eq!(report.mismatches, 0, "fresh and reset runs disagree");
    let sanitizer = report
        .sanitizer
        .as_ref()
        .expect("tlvconf boots under the sanitizer");
    for rate in [
        report.hooks_off,
        report.coverage,
        report.coverage_cmplog,
        report.coverage_unfused,
        report.coverage_cmplog_unfused,
        sanitizer.rate,
    ] {
        assert!(rate.execs as usize >= report.inputs);
    }
    fuzz_support::print(&[report]);
}
