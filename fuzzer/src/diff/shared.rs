//! What the workers of a diff run share: the case counter, the report being built, the findings seen (each saved
//! as it comes) and the features reached.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::case::Case;
use super::coverage::MAP_SIZE;
use super::engine::MemoryDump;
use super::report::{DiffConfig, DiffError, DiffEvents, DiffProgress, DiffReport, Finding};
use crate::files::write_atomically;

/// What the workers of a diff run share: the case counter, the report, the findings seen and the features reached.
pub(crate) struct Shared<'a> {
    pub(crate) config: &'a DiffConfig,
    pub(crate) events: &'a dyn DiffEvents,
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
    pub(crate) fn new(config: &'a DiffConfig, events: &'a dyn DiffEvents) -> Shared<'a> {
        Shared {
            config,
            events,
            canonicalize_nans: config.oracles.iter().any(|o| o.crosses_engines()),
            start: Instant::now(),
            next: AtomicU64::new(0),
            report: Mutex::new((DiffReport::default(), HashSet::new())),
            reached: Mutex::new(vec![0; MAP_SIZE]),
            first_error: Mutex::new(None),
            pool: Mutex::new(Vec::new()),
        }
    }

    /// Whether the run is over: out of cases or time, or failed.
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

    /// The number of the next case to run, or `None` when the run is over.
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
            self.events.finding(&finding);
            report.findings.push(finding);
        }
    }

    /// Counts inputs a guided worker kept.
    pub(crate) fn add_corpus(&self, inputs: u64) {
        if let Ok(mut guard) = self.report.lock() {
            guard.0.corpus += inputs;
        }
    }

    /// Where the run stands now.
    pub(crate) fn progress(&self) -> DiffProgress {
        let elapsed = self.start.elapsed();
        self.report
            .lock()
            .map(|guard| {
                let report = &guard.0;
                DiffProgress {
                    elapsed,
                    cases: report.cases,
                    findings: report.findings.len(),
                    features: report.features,
                    corpus: report.corpus,
                }
            })
            .unwrap_or(DiffProgress {
                elapsed,
                ..DiffProgress::default()
            })
    }

    pub(crate) fn finish(self) -> Result<DiffReport, DiffError> {
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
        write_atomically(&path, contents).map_err(|source| DiffError::Save { path, source })
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
