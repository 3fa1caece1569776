//! What a diff run is given and what it gives back: its configuration, how each oracle's cases came out, the findings with their reports, and why a run failed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::case::Case;
use super::compare::Verdict;
use super::engine::Limits;
use super::generate::Source;
use super::oracle::{CaseOutcome, Oracle, OracleError};

/// What a diff run does.
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

/// What a diff run tells its caller while it runs.
pub trait DiffEvents: Sync {
    /// A finding was saved (or, without an output folder, recorded).
    fn finding(&self, finding: &Finding);
    /// Where the run stands: told about once a second (see [`PROGRESS_INTERVAL`]) and once at the end.
    fn progress(&self, _progress: &DiffProgress) {}
}

/// Any closure over findings hears of findings only.
impl<F: Fn(&Finding) + Sync> DiffEvents for F {
    fn finding(&self, finding: &Finding) {
        self(finding)
    }
}

/// How often a diff run tells where it stands.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Where a diff run stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffProgress {
    pub elapsed: Duration,
    /// Cases every oracle has checked.
    pub cases: u64,
    /// Mismatches and panics found (each saved once).
    pub findings: usize,
    /// Engine features reached (entries of the op-level coverage map).
    pub features: usize,
    /// Inputs the guided search kept.
    pub corpus: u64,
}

impl DiffProgress {
    /// Cases per second of wall-clock time.
    pub fn cases_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.cases as f64 / secs
        }
    }
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
    /// Cases this oracle checks per minute of one worker's time, generation not included (the run's
    /// wall-clock rate is `cases / elapsed`).
    pub fn cases_per_minute(&self) -> f64 {
        let secs = self.busy.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.cases as f64 * 60.0 / secs
        }
    }

    pub(crate) fn record(&mut self, outcome: &CaseOutcome, time: Duration) {
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
    /// The run's seed and the case's number, which regenerate it (in a guided run: with one worker).
    pub seed: u64,
    pub case_index: u64,
    pub guided: bool,
    pub case: Case,
    pub outcome: CaseOutcome,
    /// The saved `.wasm`, when the run saves findings.
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

/// Where a diff run went.
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

/// Why a diff run failed.
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
