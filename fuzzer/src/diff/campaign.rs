//! A campaign: cases generated from a seed and checked by every chosen oracle on parallel workers, until a case count or a time limit, with each finding saved as `.wasm` + `.wat` + a report of what differed.
//!
//! The search is seeded random: case `i` of seed `s` is the same case on any machine and for any number of
//! workers. TODO: guide it by the engine's own coverage once the LibAFL executor lands in this crate.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::case::Case;
use super::compare::Verdict;
use super::engine::{Limits, MemoryDump};
use super::generate::{Source, generate};
use super::oracle::{Oracle, OracleError, Outcome};
use super::rng::Rng;

/// Native stack of each worker thread.
const WORKER_STACK: usize = 64 << 20;

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    /// Every case goes through each of these.
    pub oracles: Vec<Oracle>,
    /// Where findings are saved; `None` keeps them in memory only.
    pub out: Option<PathBuf>,
    /// Worker threads.
    pub jobs: usize,
    /// Stop starting cases after this long.
    pub max_total_time: Option<Duration>,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    pub seed: u64,
    pub source: Source,
    pub limits: Limits,
}

/// How the cases of one oracle came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OracleStats {
    pub cases: u64,
    pub agreed: u64,
    pub mismatched: u64,
    pub panicked: u64,
    pub inconclusive: u64,
    pub skipped: u64,
    /// Time spent checking cases (generation not included), summed over workers.
    pub busy: Duration,
}

impl OracleStats {
    /// Cases this oracle checks per minute of one worker's time, generation not included (the campaign's
    /// wall-clock rate is `cases / elapsed`).
    pub fn cases_per_minute(&self) -> f64 {
        let secs = self.busy.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.cases as f64 * 60.0 / secs
        }
    }

    fn record(&mut self, outcome: &Outcome, time: Duration) {
        self.cases += 1;
        self.busy += time;
        match outcome {
            Outcome::Verdict(Verdict::Agree) => self.agreed += 1,
            Outcome::Verdict(Verdict::Mismatch(_)) => self.mismatched += 1,
            Outcome::Verdict(Verdict::Inconclusive(_)) => self.inconclusive += 1,
            Outcome::Verdict(Verdict::Skipped(_)) => self.skipped += 1,
            Outcome::Panicked(_) => self.panicked += 1,
        }
    }
}

/// A mismatch or a panic, with the case that shows it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub oracle: Oracle,
    /// The campaign's seed and the case's number, which regenerate it.
    pub seed: u64,
    pub case_index: u64,
    pub case: Case,
    pub outcome: Outcome,
    /// The saved `.wasm`, when the campaign saves findings.
    pub saved: Option<PathBuf>,
}

impl Finding {
    /// The report saved beside the case: what differed, the calls, how to reproduce.
    pub fn report(&self) -> String {
        let mut text = report_text(self.oracle, &self.case, &self.outcome);
        let _ = writeln!(
            text,
            "generated as case {} of seed {} (capicola diff --seed {} --cases {})",
            self.case_index,
            self.seed,
            self.seed,
            self.case_index + 1
        );
        if let Some(path) = &self.saved {
            let _ = writeln!(
                text,
                "reproduce: capicola diff --reproduce {} --against {}",
                path.display(),
                self.oracle
            );
        }
        text
    }
}

/// A human-readable account of checking `case` with `oracle`.
pub fn report_text(oracle: Oracle, case: &Case, outcome: &Outcome) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "oracle: {oracle}");
    let _ = writeln!(text, "origin: {}", case.origin);
    match outcome {
        Outcome::Verdict(Verdict::Agree) => text.push_str("verdict: the engines agree\n"),
        Outcome::Verdict(Verdict::Inconclusive(reason)) => {
            let _ = writeln!(text, "verdict: inconclusive: {reason}");
        }
        Outcome::Verdict(Verdict::Skipped(reason)) => {
            let _ = writeln!(text, "verdict: skipped: {reason}");
        }
        Outcome::Verdict(Verdict::Mismatch(differences)) => {
            text.push_str(
                "verdict: MISMATCH (test = capicola, or capicola run the oracle's way)\n",
            );
            for d in differences {
                let _ = writeln!(text, "{d}");
            }
        }
        Outcome::Panicked(message) => {
            let _ = writeln!(text, "verdict: PANIC: {message}");
        }
    }
    let _ = writeln!(text, "calls ({}):", case.calls.len());
    for (i, call) in case.calls.iter().enumerate() {
        let args: Vec<String> = call.args.iter().map(ToString::to_string).collect();
        let _ = writeln!(text, "  #{i} {}({})", call.export, args.join(", "));
    }
    text
}

/// Where a campaign went.
#[derive(Debug, Clone, Default)]
pub struct CampaignReport {
    pub stats: BTreeMap<Oracle, OracleStats>,
    pub findings: Vec<Finding>,
    /// Cases generated.
    pub cases: u64,
    pub elapsed: Duration,
}

/// Why a campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Oracle(#[from] OracleError),
    #[error("cannot save a finding in {path}: {source}")]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs a campaign; `on_finding` hears of each finding as it is saved.
pub fn run_campaign(
    config: &CampaignConfig,
    on_finding: &(dyn Fn(&Finding) + Sync),
) -> Result<CampaignReport, CampaignError> {
    // Fail early when an oracle is not built in.
    for oracle in &config.oracles {
        oracle.engines(config.limits, config.seed)?;
    }
    if let Some(out) = &config.out {
        std::fs::create_dir_all(out).map_err(|source| CampaignError::Save {
            path: out.clone(),
            source,
        })?;
    }
    let canonicalize_nans = config.oracles.iter().any(|o| o.crosses_engines());
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let shared = Mutex::new((CampaignReport::default(), HashSet::<u64>::new()));
    let first_error: Mutex<Option<CampaignError>> = Mutex::new(None);
    let worker = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let out_of_cases = config.cases.is_some_and(|n| index >= n);
            let out_of_time = config
                .max_total_time
                .is_some_and(|limit| start.elapsed() >= limit);
            let failed = first_error.lock().map(|e| e.is_some()).unwrap_or(true);
            if out_of_cases || out_of_time || failed {
                return;
            }
            let mut rng = Rng::for_case(config.seed, index);
            let case = generate(config.source, &mut rng, canonicalize_nans);
            let mut results = Vec::new();
            for &oracle in &config.oracles {
                let began = Instant::now();
                let outcome = match oracle.check(&case, config.limits) {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(e.into());
                        }
                        return;
                    }
                };
                results.push((oracle, outcome, began.elapsed()));
            }
            let Ok(mut guard) = shared.lock() else { return };
            let (report, seen) = &mut *guard;
            report.cases += 1;
            for (oracle, outcome, time) in results {
                report
                    .stats
                    .entry(oracle)
                    .or_default()
                    .record(&outcome, time);
                if !outcome.is_finding() {
                    continue;
                }
                let mut finding = Finding {
                    oracle,
                    seed: config.seed,
                    case_index: index,
                    case: case.clone(),
                    outcome,
                    saved: None,
                };
                let bytes = finding.case.to_file();
                let key = MemoryDump {
                    bytes: bytes.clone(),
                }
                .hash()
                    ^ oracle as u64;
                if !seen.insert(key) {
                    continue;
                }
                if let Some(out) = &config.out {
                    match save(out, &mut finding, &bytes, key) {
                        Ok(()) => {}
                        Err(e) => {
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            return;
                        }
                    }
                }
                on_finding(&finding);
                report.findings.push(finding);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            // Parsing and mutating modules recurses on deep nesting.
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, worker)
                .expect("a worker thread can be started");
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let (mut report, _) = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    report.elapsed = start.elapsed();
    report.findings.sort_by_key(|f| (f.case_index, f.oracle));
    Ok(report)
}

/// Saves a finding as `<oracle>-<hash>.wasm` (the module with its calls), `.wat` (when it prints) and `.txt`.
fn save(out: &Path, finding: &mut Finding, bytes: &[u8], key: u64) -> Result<(), CampaignError> {
    let stem = out.join(format!("{}-{key:016x}", finding.oracle));
    let wasm = stem.with_extension("wasm");
    let write = |path: PathBuf, contents: &[u8]| {
        std::fs::write(&path, contents).map_err(|source| CampaignError::Save { path, source })
    };
    write(wasm.clone(), bytes)?;
    finding.saved = Some(wasm);
    let mut report = finding.report();
    match wasmprinter::print_bytes(bytes) {
        Ok(wat) => write(stem.with_extension("wat"), wat.as_bytes())?,
        Err(e) => {
            let _ = writeln!(report, "(no .wat: the module does not print: {e})");
        }
    }
    write(stem.with_extension("txt"), report.as_bytes())
}
