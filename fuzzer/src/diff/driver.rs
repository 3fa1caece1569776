//! A campaign: cases checked by every chosen oracle on parallel workers, until a case count or a time limit, with each finding saved as `.wasm` + `.wat` + a report of what differed.
//!
//! Two searches feed it. The guided one ([`super::search`], the default) mutates inputs with LibAFL and keeps
//! those that make the engine do something new by its op-level coverage ([`super::coverage`]); with one worker,
//! a seed and a case count it is the same run on any machine (a time limit, or workers sharing their finds, make
//! it depend on timing). The unguided one draws input `i` of seed `s` at random: the same case on any machine
//! and for any number of workers. Both measure the engine features every case reached, so the two compare.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::case::Case;
use super::compare::Verdict;
use super::coverage::{MAP_SIZE, OpCoverage};
use super::engine::{Limits, MemoryDump};
use super::generate::{Source, generate};
use super::oracle::{CaseOutcome, Oracle, OracleError};
use super::rng::Rng;

/// Native stack of each worker thread.
const WORKER_STACK: usize = 64 << 20;

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct DiffConfig {
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
    /// Guide the search by the engine's op-level coverage (otherwise: seeded random cases).
    pub guided: bool,
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

    fn record(&mut self, outcome: &CaseOutcome, time: Duration) {
        self.cases += 1;
        self.busy += time;
        match outcome {
            CaseOutcome::Verdict(Verdict::Agree) => self.agreed += 1,
            CaseOutcome::Verdict(Verdict::Mismatch(_)) => self.mismatched += 1,
            CaseOutcome::Verdict(Verdict::Inconclusive(_)) => self.inconclusive += 1,
            CaseOutcome::Verdict(Verdict::Skipped(_)) => self.skipped += 1,
            CaseOutcome::Panicked(_) => self.panicked += 1,
        }
    }
}

/// A mismatch or a panic, with the case that shows it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub oracle: Oracle,
    /// The campaign's seed and the case's number, which regenerate it (in a guided campaign: with one worker).
    pub seed: u64,
    pub case_index: u64,
    pub guided: bool,
    pub case: Case,
    pub outcome: CaseOutcome,
    /// The saved `.wasm`, when the campaign saves findings.
    pub saved: Option<PathBuf>,
}

impl Finding {
    /// The report saved beside the case: what differed, the calls, how to reproduce.
    pub fn report(&self) -> String {
        let mut text = report_text(self.oracle, &self.case, &self.outcome);
        let _ = writeln!(
            text,
            "generated as case {} of seed {} (capicola diff --seed {} --cases {}{})",
            self.case_index,
            self.seed,
            self.seed,
            self.case_index + 1,
            if self.guided {
                " -j 1: a guided search repeats only with one worker and no time limit"
            } else {
                " --unguided"
            }
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
pub fn report_text(oracle: Oracle, case: &Case, outcome: &CaseOutcome) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "oracle: {oracle}");
    let _ = writeln!(text, "origin: {}", case.origin);
    match outcome {
        CaseOutcome::Verdict(Verdict::Agree) => text.push_str("verdict: the engines agree\n"),
        CaseOutcome::Verdict(Verdict::Inconclusive(reason)) => {
            let _ = writeln!(text, "verdict: inconclusive: {reason}");
        }
        CaseOutcome::Verdict(Verdict::Skipped(reason)) => {
            let _ = writeln!(text, "verdict: skipped: {reason}");
        }
        CaseOutcome::Verdict(Verdict::Mismatch(differences)) => {
            text.push_str(
                "verdict: MISMATCH (test = capicola, or capicola run the oracle's way)\n",
            );
            for d in differences {
                let _ = writeln!(text, "{d}");
            }
        }
        CaseOutcome::Panicked(message) => {
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
pub struct DiffReport {
    pub stats: BTreeMap<Oracle, OracleStats>,
    pub findings: Vec<Finding>,
    /// Cases generated.
    pub cases: u64,
    pub elapsed: Duration,
    /// Engine features (entries of the op-level coverage map) some case reached.
    pub features: usize,
    /// The same by part: op kinds, op-kind pairs, outcomes.
    pub feature_parts: (usize, usize, usize),
    /// (Entry, hit-count class) pairs some case reached: what the guided search looks for.
    pub feature_classes: usize,
    /// Features and feature classes reached after 1, 2, 4, 8... cases (and after the last), as (cases,
    /// features, classes).
    pub growth: Vec<(u64, usize, usize)>,
    /// Inputs the guided search kept, summed over workers (0 when unguided).
    pub corpus: u64,
}

/// Why a campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Oracle(#[from] OracleError),
    #[error("the guided search failed: {0}")]
    Search(String),
    #[error("cannot save a finding in {path}")]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs a campaign; `on_finding` hears of each finding as it is saved.
pub fn run_diff(
    config: &DiffConfig,
    on_finding: &(dyn Fn(&Finding) + Sync),
) -> Result<DiffReport, DiffError> {
    // Fail early when an oracle is not built in.
    for oracle in &config.oracles {
        oracle.engines(config.limits, config.seed)?;
    }
    if let Some(out) = &config.out {
        std::fs::create_dir_all(out).map_err(|source| DiffError::Save {
            path: out.clone(),
            source,
        })?;
    }
    let shared = Shared::new(config, on_finding);
    let worker = |worker: usize| {
        let result = if config.guided {
            super::search::run_worker(&shared, worker)
        } else {
            unguided_worker(&shared);
            Ok(())
        };
        if let Err(e) = result {
            shared.fail(e);
        }
    };
    std::thread::scope(|scope| {
        for i in 0..config.jobs.max(1) {
            // Parsing and mutating modules recurses on deep nesting.
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || worker(i))
                .expect("a worker thread can be started");
        }
    });
    shared.finish()
}

/// The seeded random search: case `i` is [`generate`] of `Rng::for_case(seed, i)`.
fn unguided_worker(shared: &Shared<'_>) {
    let config = shared.config;
    let mut coverage = OpCoverage::new(config.limits);
    let mut map = vec![0; MAP_SIZE];
    while let Some(index) = shared.claim() {
        let mut rng = Rng::for_case(config.seed, index);
        let case = generate(config.source, &mut rng, shared.canonicalize_nans);
        coverage.observe(&case, &mut map);
        shared.check(index, &case, &map);
    }
}

/// What the workers of a campaign share: the case counter, the report, the findings seen and the features reached.
pub(crate) struct Shared<'a> {
    pub(crate) config: &'a DiffConfig,
    on_finding: &'a (dyn Fn(&Finding) + Sync),
    pub(crate) canonicalize_nans: bool,
    start: Instant,
    next: AtomicU64,
    report: Mutex<(DiffReport, HashSet<u64>)>,
    /// The hit-count classes (one bit each) some case reached, by map entry.
    reached: Mutex<Vec<u8>>,
    first_error: Mutex<Option<DiffError>>,
    /// Inputs the guided workers kept and share, with the worker that kept each.
    pub(crate) pool: Mutex<Vec<(usize, Vec<u8>)>>,
}

impl<'a> Shared<'a> {
    fn new(config: &'a DiffConfig, on_finding: &'a (dyn Fn(&Finding) + Sync)) -> Shared<'a> {
        Shared {
            config,
            on_finding,
            canonicalize_nans: config.oracles.iter().any(|o| o.crosses_engines()),
            start: Instant::now(),
            next: AtomicU64::new(0),
            report: Mutex::new((DiffReport::default(), HashSet::new())),
            reached: Mutex::new(vec![0; MAP_SIZE]),
            first_error: Mutex::new(None),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Whether the campaign is over: out of cases or time, or failed.
    pub(crate) fn done(&self) -> bool {
        self.config
            .cases
            .is_some_and(|n| self.next.load(Ordering::Relaxed) >= n)
            || self
                .config
                .max_total_time
                .is_some_and(|limit| self.start.elapsed() >= limit)
            || self.first_error.lock().map(|e| e.is_some()).unwrap_or(true)
    }

    /// The number of the next case to run, or `None` when the campaign is over.
    pub(crate) fn claim(&self) -> Option<u64> {
        if self.done() {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        if self.config.cases.is_some_and(|n| index >= n) {
            return None;
        }
        Some(index)
    }

    pub(crate) fn fail(&self, e: DiffError) {
        if let Ok(mut slot) = self.first_error.lock() {
            slot.get_or_insert(e);
        }
    }

    /// Checks case `index` (whose op-level coverage is `map`) with every oracle, records the outcomes and saves
    /// the findings.
    pub(crate) fn check(&self, index: u64, case: &Case, map: &[u8]) {
        let config = self.config;
        let (features, parts, classes) = {
            let Ok(mut reached) = self.reached.lock() else {
                return;
            };
            for (r, &m) in reached.iter_mut().zip(map) {
                *r |= super::coverage::class_bit(m);
            }
            (
                super::coverage::features(&reached),
                super::coverage::feature_parts(&reached),
                reached.iter().map(|r| r.count_ones() as usize).sum(),
            )
        };
        let mut results = Vec::new();
        for &oracle in &config.oracles {
            let began = Instant::now();
            let outcome = match oracle.check(case, config.limits) {
                Ok(outcome) => outcome,
                Err(e) => return self.fail(e.into()),
            };
            results.push((oracle, outcome, began.elapsed()));
        }
        let Ok(mut guard) = self.report.lock() else {
            return;
        };
        let (report, seen) = &mut *guard;
        report.cases += 1;
        if classes > report.feature_classes {
            report.features = features;
            report.feature_parts = parts;
            report.feature_classes = classes;
        }
        if report.cases.is_power_of_two() {
            report
                .growth
                .push((report.cases, report.features, report.feature_classes));
        }
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
                guided: config.guided,
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
            if let Some(out) = &config.out
                && let Err(e) = save(out, &mut finding, &bytes, key)
            {
                return self.fail(e);
            }
            (self.on_finding)(&finding);
            report.findings.push(finding);
        }
    }

    /// Counts inputs a guided worker kept.
    pub(crate) fn add_corpus(&self, inputs: u64) {
        if let Ok(mut guard) = self.report.lock() {
            guard.0.corpus += inputs;
        }
    }

    fn finish(self) -> Result<DiffReport, DiffError> {
        if let Some(e) = self
            .first_error
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
        {
            return Err(e);
        }
        let (mut report, _) = self.report.into_inner().unwrap_or_else(|e| e.into_inner());
        report.elapsed = self.start.elapsed();
        if report
            .growth
            .last()
            .is_some_and(|&(n, ..)| n != report.cases)
        {
            report
                .growth
                .push((report.cases, report.features, report.feature_classes));
        }
        report.findings.sort_by_key(|f| (f.case_index, f.oracle));
        Ok(report)
    }
}

/// Saves a finding as `<oracle>-<hash>.wasm` (the module with its calls), `.wat` (when it prints) and `.txt`.
fn save(out: &Path, finding: &mut Finding, bytes: &[u8], key: u64) -> Result<(), DiffError> {
    let stem = out.join(format!("{}-{key:016x}", finding.oracle));
    let wasm = stem.with_extension("wasm");
    let write = |path: PathBuf, contents: &[u8]| {
        std::fs::write(&path, contents).map_err(|source| DiffError::Save { path, source })
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
