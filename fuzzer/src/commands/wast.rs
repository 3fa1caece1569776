//! `capicola wast`: runs spec-test scripts and reports every directive as passed, failed or unsupported.

use std::path::PathBuf;

use anyhow::Context;
use capicola::wast::{Counts, ScriptConfig, run_scripts};
use capicola_engine::Features;

use super::Status;

/// Runs WebAssembly spec-test scripts (.wast) and reports on every directive.
///
/// Each directive (module, register, action, assert_return, assert_trap,
/// assert_exhaustion, assert_invalid, assert_malformed, assert_unlinkable, and any
/// other kind under its own name) counts once: passed, failed, or unsupported when
/// the engine or the runner does not implement what it needs. A file that does not
/// parse counts as one failed `parse`.
///
/// Text output: one line per failure (`FILE:LINE: KIND: MESSAGE`) and a summary line
/// per file. With --json: one JSON object per file, each on its own line:
/// {"file", "passed", "failed", "unsupported", "by_kind": {KIND: {"passed", "failed",
/// "unsupported"}}, "failures": [{"line", "kind", "message"}]}.
///
/// Exit codes: 0 nothing failed (unsupported directives are not failures); 1 some
/// directive failed; 2 a file could not be read.
#[derive(Debug, clap::Args)]
pub struct WastCommand {
    /// The scripts to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    json: bool,
    /// Accept exactly Wasm 2.0 (with SIMD), as the scripts of the 2.0 suite expect; by
    /// default every proposal the engine implements is accepted.
    #[arg(long)]
    wasm2: bool,
    /// In text output, also list the unsupported directives.
    #[arg(long, conflicts_with = "json")]
    show_unsupported: bool,
}

impl WastCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let scripts = self
            .files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Ok((path.display().to_string(), text))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut config = ScriptConfig::default();
        if self.wasm2 {
            config.engine.features = Features::WASM2;
        }
        let reports = run_scripts(&scripts, workers, &config);

        let mut all = Counts::default();
        for report in &reports {
            let totals = report.totals();
            all.add(&totals);
            if self.json {
                outln!("{}", report.to_json());
                continue;
            }
            let mut findings: Vec<_> = report.failures.iter().map(|f| (f, "")).collect();
            if self.show_unsupported {
                findings.extend(report.unsupported.iter().map(|f| (f, "unsupported: ")));
                findings.sort_by_key(|(finding, _)| finding.line);
            }
            for (finding, prefix) in findings {
                outln!(
                    "{}:{}: {}: {prefix}{}",
                    report.file,
                    finding.line,
                    finding.kind,
                    finding.message
                );
            }
            outln!("{}: {}", report.file, summary(&totals));
        }
        if !self.json && reports.len() > 1 {
            outln!("total: {}", summary(&all));
        }
        Ok(if all.failed == 0 {
            Status::Success
        } else {
            Status::Failures
        })
    }
}

fn summary(counts: &Counts) -> String {
    format!(
        "{} passed, {} failed, {} unsupported ({} directives)",
        counts.passed,
        counts.failed,
        counts.unsupported,
        counts.total()
    )
}
