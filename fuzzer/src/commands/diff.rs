//! `capicola diff`: differential fuzzing of capicola against a reference engine and against itself run through snapshots and resets.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use capicola::diff::{
    CaseOutcome, DiffConfig, DiffEvents, DiffProgress, Finding, Limits, Oracle, OracleStats,
    Source, report_text, reproduce, run_diff,
};
use capicola::fuzz::monitor::LOG_INTERVAL;
use capicola::fuzz::stats::{format_duration, pretty};

use super::Status;
use super::common::parse_bytes;

/// Differentially fuzzes capicola: against wasmi (or wasmtime), and against itself paused
/// through serialized snapshots or reset to a baseline.
///
/// Each case is a module — from wasm-smith, or a spec-suite module mutated by wasm-mutate —
/// and calls of its exports (with interesting values, or the values of the suite's own
/// assertions), made on one instance in capicola and in the reference. Results are compared
/// (any NaN matches any NaN of its type), so are traps by kind, and at the end the exported
/// globals, memories and tables. A call that runs out of fuel or stack in either engine makes
/// the case inconclusive, not a mismatch: engines count both differently.
///
/// Oracles (--against, repeatable; default wasmi, snapshot and reset):
///   wasmi     capicola against wasmi 2.0
///   wasmtime  capicola against wasmtime (only in a build with `--features wasmtime`)
///   snapshot  capicola paused at pseudo-random instructions, serialized, restored into a
///             fresh store and resumed, several times a call, against capicola straight
///   reset     capicola reset to a baseline after a dirtying run, against a fresh instance
///
/// Every mismatch or engine panic is saved in OUT as ORACLE-HASH.wasm (the module, with its
/// calls in a custom section), .wat and .txt (what differed). `--reproduce CASE.wasm`
/// re-checks one saved case (a plain module, .wasm or .wat, gets every export called with
/// zeros).
///
/// The search is guided by the engine's op-level coverage: LibAFL mutates inputs (byte strings
/// the generators turn into cases) and keeps those that make capicola run an IR op kind, a pair
/// of op kinds in sequence, a trap kind or a number of host calls (in AFL hit-count classes) that
/// no kept input did. With -j 1, --seed S and --cases N it is the same run on any machine; a
/// time limit or -j > 1 (workers share their finds) make it depend on timing. --unguided draws
/// every case at random instead: case N of seed S is the same on any machine and any -j. Both
/// print the engine features (entries of the coverage map) the cases reached.
///
/// While it runs, a status line on stderr tells the time, the cases checked and their rate, the
/// engine features reached, the inputs kept and the findings (redrawn every second on a terminal,
/// a new line every 5 seconds otherwise; -q for none); each finding is named as it is saved.
///
/// Exit codes: 0 no finding; 1 a mismatch or a panic was found; 2 a usage or I/O error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DiffCommand {
    /// Oracle each case goes through; repeat for several.
    #[arg(long = "against", value_enum, value_name = "ORACLE")]
    against: Vec<Oracle>,
    /// Folder for the findings (`--out` is an older spelling).
    #[arg(
        short = 'o',
        long = "output",
        alias = "out",
        value_name = "OUT",
        required_unless_present = "reproduce"
    )]
    out: Option<PathBuf>,
    /// Worker threads.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1)]
    jobs: usize,
    /// Stop starting cases after S seconds.
    #[arg(long, value_name = "S")]
    max_total_time: Option<u64>,
    /// Stop after N cases (without this or --max-total-time, runs until interrupted).
    #[arg(long, value_name = "N")]
    cases: Option<u64>,
    /// Seed of the generated cases.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Draw every case at random instead of guiding the search by coverage.
    #[arg(long)]
    unguided: bool,
    /// Where cases come from.
    #[arg(long, value_enum, value_name = "GENERATOR", default_value_t = Source::Both)]
    generator: Source,
    /// Instructions a call may run in capicola (references get a multiple of it).
    #[arg(long, value_name = "N", default_value_t = Limits::default().fuel_per_call)]
    fuel: u64,
    /// Largest size of any one memory of a case, in every engine compared (suffixes K, M, G): past it
    /// `memory.grow` returns -1 and instantiation is refused.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "16M")]
    max_memory: u64,
    /// Largest size of any one table of a case, in elements, in every engine compared.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_table_elements)]
    max_table_elements: u64,
    /// No status line (findings and the summary are still printed).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Re-check one saved case instead of fuzzing.
    #[arg(long, value_name = "CASE.wasm", conflicts_with_all = ["out", "max_total_time", "cases"])]
    reproduce: Option<PathBuf>,
}

impl DiffCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let oracles = if self.against.is_empty() {
            Oracle::DEFAULT.to_vec()
        } else {
            let mut oracles = self.against.clone();
            oracles.sort();
            oracles.dedup();
            oracles
        };
        let limits = Limits {
            fuel_per_call: self.fuel,
            max_memory_bytes: self.max_memory,
            max_table_elements: self.max_table_elements,
        };
        if let Some(path) = &self.reproduce {
            return reproduce_case(path, &oracles, limits);
        }
        let config = DiffConfig {
            oracles,
            out: self.out.clone(),
            jobs: self.jobs.max(1),
            max_total_time: self.max_total_time.map(Duration::from_secs),
            cases: self.cases,
            seed: self.seed,
            source: self.generator,
            limits,
            guided: !self.unguided,
        };
        let status = DiffStatus::new(self.quiet);
        let report = run_diff(&config, &status);
        // Ends the status line before the summary.
        drop(status);
        let report = report.context("the diff run failed")?;
        outln!(
            "{} cases in {:.1} s ({:.0} cases/min with {} worker{})",
            report.cases,
            report.elapsed.as_secs_f64(),
            report.cases as f64 * 60.0 / report.elapsed.as_secs_f64().max(1e-9),
            config.jobs,
            if config.jobs == 1 { "" } else { "s" }
        );
        let (kinds, pairs, outcomes) = report.feature_parts;
        outln!(
            "engine features reached: {} ({kinds} op kinds, {pairs} op-kind pairs, {outcomes} outcomes), {} with hit-count classes; {}",
            report.features,
            report.feature_classes,
            if config.guided {
                format!("guided, {} inputs kept", report.corpus)
            } else {
                "unguided".to_string()
            },
        );
        let growth: Vec<String> = report
            .growth
            .iter()
            .map(|(cases, features, classes)| format!("{cases}:{features}/{classes}"))
            .collect();
        outln!("cases:features/classes {}", growth.join(" "));
        outln!(
            "{:<9} {:>7} {:>7} {:>8} {:>5} {:>12} {:>7} {:>10}",
            "oracle",
            "cases",
            "agree",
            "mismatch",
            "panic",
            "inconclusive",
            "skipped",
            "checks/min"
        );
        for (oracle, stats) in &report.stats {
            print_stats(*oracle, stats);
        }
        Ok(if report.findings.is_empty() {
            Status::Success
        } else {
            Status::Failures
        })
    }
}

fn print_stats(oracle: Oracle, s: &OracleStats) {
    outln!(
        "{:<9} {:>7} {:>7} {:>8} {:>5} {:>12} {:>7} {:>10.0}",
        oracle.name(),
        s.cases,
        s.agreed,
        s.mismatched,
        s.panicked,
        s.inconclusive,
        s.skipped,
        s.cases_per_minute()
    );
}

fn reproduce_case(path: &PathBuf, oracles: &[Oracle], limits: Limits) -> anyhow::Result<Status> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (case, outcomes) = reproduce(&bytes, oracles, limits)
        .with_context(|| format!("cannot check {}", path.display()))?;
    let mut found = false;
    for (oracle, outcome) in &outcomes {
        found |= outcome.is_finding();
        outln!("{}", report_text(*oracle, &case, outcome));
    }
    Ok(if found {
        Status::Failures
    } else {
        Status::Success
    })
}

/// The diff run's status line and its findings as they come, on stderr.
struct DiffStatus {
    quiet: bool,
    /// Whether stderr is a terminal: the line is then redrawn in place.
    tty: bool,
    /// Whether the terminal's cursor is at the end of a drawn status line, and when a line was last printed.
    line: Mutex<(bool, Option<Instant>)>,
}

impl DiffStatus {
    fn new(quiet: bool) -> DiffStatus {
        let tty = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|term| term != "dumb");
        DiffStatus {
            quiet,
            tty,
            line: Mutex::new((false, None)),
        }
    }

    /// The status line's text.
    fn text(progress: &DiffProgress) -> String {
        format!(
            "[{}] cases {} ({}/s) | features {} | kept {} | findings {}",
            format_duration(progress.elapsed),
            progress.cases,
            pretty(progress.cases_per_sec()),
            progress.features,
            progress.corpus,
            progress.findings
        )
    }
}

impl DiffEvents for DiffStatus {
    fn finding(&self, finding: &Finding) {
        let what = if matches!(finding.outcome, CaseOutcome::Panicked(_)) {
            "panic"
        } else {
            "mismatch"
        };
        let place = finding
            .saved
            .as_ref()
            .map_or_else(String::new, |p| format!(": {}", p.display()));
        let mut line = self.line.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if line.0 {
            let _ = write!(err, "\r\x1b[K");
            line.0 = false;
        }
        let _ = writeln!(
            err,
            "finding: {} {what} in case {}{place}",
            finding.oracle, finding.case_index
        );
    }

    fn progress(&self, progress: &DiffProgress) {
        if self.quiet {
            return;
        }
        let mut line = self.line.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if self.tty {
            // Drawn in place; the last one (at the end of the run) is cleared for the summary.
            let _ = write!(err, "\r\x1b[K{}", Self::text(progress));
            line.0 = true;
        } else if line.1.is_none_or(|last| last.elapsed() >= LOG_INTERVAL) {
            let _ = writeln!(err, "{}", Self::text(progress));
            line.1 = Some(Instant::now());
        }
        let _ = err.flush();
    }
}

impl Drop for DiffStatus {
    fn drop(&mut self) {
        let line = self.line.get_mut().unwrap_or_else(|e| e.into_inner());
        if line.0 {
            let _ = writeln!(std::io::stderr());
        }
    }
}
