//! `capicola cov`: reports which functions and source lines a corpus reaches in a fuzz target, with hit counts.

use std::path::{Path, PathBuf};

use anyhow::Context;
use capicola::cov::{CoverageReport, html, lcov, plot};
use capicola::files::write_atomically;
use capicola::fuzz::InputOutcome;
use capicola::fuzz::sanitizer::source_lines;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{RunArgs, expand_inputs, read_input, target_name};

/// Runs a corpus through a fuzz target, as `capicola fuzz` runs it (booted once, reset to that snapshot for every
/// input, with the same target and sanitizer options), and reports which functions and, for a target built with
/// `-g`, which source lines it reaches, with hit counts.
///
/// The counts are exact numbers of executions, over the target's initialization (once, as one fuzzing process runs
/// it) and every input. A function's count is how many times it was called. A line's count is how many times
/// execution entered its code: the engine counts every edge (a function's entry, each way of a branch) exactly, and
/// each edge adds its count to every line of the straight-line code it leads to, once per line. Calls are taken to
/// return, so the lines after an instruction that trapped count that last run as well.
///
/// Prints a summary (per function: reached or not, calls; per source file: lines reached of lines with code).
/// `-o` writes an HTML report (index.html and one page per source file, lines coloured as `llvm-cov show` colours
/// them; sources are read from the paths in the DWARF line table), `--lcov` an lcov tracefile for `genhtml` and
/// IDEs.
///
/// `capicola cov --plot OUT_DIR/plot_data` instead draws a campaign's coverage over time (edges covered, corpus
/// count, execs/s) into OUT_DIR/coverage.svg, as the campaign itself does when it ends.
///
/// Exit codes: 0 the report was made (inputs that crash or time out are counted up to where they stopped); 2 a
/// usage or load error.
#[derive(Debug, clap::Args)]
pub struct CovCommand {
    /// The fuzz target (.wasm or .wat).
    #[arg(required_unless_present = "plot")]
    target: Option<PathBuf>,
    /// The corpus: input files or folders.
    #[arg(value_name = "CORPUS", required_unless_present = "plot")]
    corpus: Vec<PathBuf>,
    /// Writes the HTML report into this folder (created if needed).
    #[arg(short = 'o', long = "output", value_name = "REPORT_DIR")]
    output: Option<PathBuf>,
    /// Also prints every source file with each line's count, as `llvm-cov show` does in text (`LINE|COUNT|SOURCE`).
    #[arg(long)]
    lines: bool,
    /// Writes an lcov tracefile (TN/SF/FN/FNDA/DA/LF/LH records) to this file.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
    /// Draws a campaign's `plot_data` into coverage.svg beside it, instead of running a corpus.
    #[arg(long, value_name = "PLOT_DATA", conflicts_with_all = ["target", "corpus", "output", "lcov", "lines"])]
    plot: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

impl CovCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        if let Some(plot_data) = &self.plot {
            let svg = plot_data.with_file_name(plot::PLOT_FILE);
            plot::write_plot(plot_data, &svg)?;
            outln!("coverage plot: {}", svg.display());
            return Ok(Status::Success);
        }
        let target_path = self.target.as_deref().context("no target given")?;
        let report = self.run_corpus(target_path)?;
        if self.lines {
            out!("{}", report.annotated_lines(read_source));
        }
        out!("{}", report.summary());
        let name = target_name(target_path);
        if let Some(dir) = &self.output {
            write_html(&report, &name, dir)?;
            outln!("HTML report: {}", dir.join("index.html").display());
        }
        if let Some(file) = &self.lcov {
            write_atomically(file, lcov::tracefile(&report, &name).as_bytes())
                .with_context(|| format!("cannot write {}", file.display()))?;
            outln!("lcov tracefile: {}", file.display());
        }
        Ok(Status::Success)
    }

    /// Runs every input of the corpus and makes the report of what they reached.
    fn run_corpus(&self, target_path: &Path) -> anyhow::Result<CoverageReport> {
        let setup = self
            .run
            .prepare(Some(target_path), &self.corpus, OutputMode::Discard)?;
        let mut instrumentation = setup.sanitizer.instrumentation();
        instrumentation.coverage = true;
        let mut target = setup.load(instrumentation)?;
        let files = expand_inputs(&self.corpus)?;
        let (mut ok, mut crashed, mut timed_out) = (0, 0, 0);
        for file in &files {
            let input = read_input(file, setup.options.max_len)?;
            match target.run(&input) {
                InputOutcome::Ok { .. } => ok += 1,
                InputOutcome::Timeout { .. } => timed_out += 1,
                _ => crashed += 1,
            }
        }
        errln!(
            "ran {} input(s): {ok} ok, {crashed} crashed, {timed_out} timed out",
            files.len()
        );
        let debug_info = source_lines(&setup.wasm);
        Ok(CoverageReport::new(
            target.module(),
            debug_info.as_ref(),
            &target.edge_hits(),
        ))
    }
}

/// The text of a source file at its DWARF path, or why it cannot be read.
fn read_source(path: &str) -> Result<String, String> {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("cannot read {path}: {e}"))
}

/// Writes the HTML report's pages into `dir`.
fn write_html(report: &CoverageReport, name: &str, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (page, html) in html::pages(report, name, read_source) {
        let path = dir.join(page);
        write_atomically(&path, html.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
