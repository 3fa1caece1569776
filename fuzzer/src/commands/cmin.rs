//! `capicola cmin`: picks a smaller corpus with the same coverage.

use std::path::PathBuf;

use anyhow::{Context, bail};
use capicola::files::write_atomically;
use capicola::fuzz::Instrumentation;
use capicola::fuzz::minimize;
use capicola::fuzz::output::input_files;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{RunArgs, expand_inputs, read_input};

/// Minimizes a corpus: copies to OUT a subset of the inputs that covers every edge, in every hit-count class,
/// that the whole corpus covers (as afl-cmin: for each edge the smallest input reaching it, rarest edges first).
/// Inputs that crash or time out are left out. A campaign's queue (`-i OUT/queue`) runs with the campaign's
/// settings (TARGET then being optional), as `replay` runs it.
#[derive(Debug, clap::Args)]
pub struct CminCommand {
    /// The fuzz target (.wasm or .wat; optional for a campaign's queue).
    target: Option<PathBuf>,
    /// Corpus folders or files (repeatable).
    #[arg(short = 'i', long = "input", value_name = "DIR", required = true)]
    inputs: Vec<PathBuf>,
    /// Folder to copy the kept inputs to (created; must be empty).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

impl CminCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let setup = self
            .run
            .prepare(self.target.as_deref(), &self.inputs, OutputMode::Discard)?;
        let mut target = setup.load(Instrumentation {
            coverage: true,
            cmplog: false,
            ..setup.sanitizer.instrumentation()
        })?;
        errln!("{}", setup.sanitizer.banner(target.module()));
        let files = expand_inputs(&self.inputs)?;
        let mut inputs = Vec::with_capacity(files.len());
        for file in &files {
            inputs.push(read_input(file, setup.options.max_len)?);
        }
        let out = &self.output;
        if !input_files(out)
            .with_context(|| format!("cannot list {}", out.display()))?
            .is_empty()
        {
            bail!("{} is not empty", out.display());
        }
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let report = minimize::cmin(&mut target, &inputs);
        for &index in &report.kept {
            let name = files[index].file_name().map_or_else(
                || format!("input-{index}"),
                |n| n.to_string_lossy().into_owned(),
            );
            let path = out.join(&name);
            if path.exists() {
                bail!("two kept inputs are named {name}");
            }
            write_atomically(&path, &inputs[index])
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        outln!(
            "kept {} of {} inputs in {} ({} failing left out); they cover {} edges ({} edge/hit-count pairs), as the whole corpus does",
            report.kept.len(),
            inputs.len(),
            out.display(),
            report.failing.len(),
            report.edges,
            report.features
        );
        Ok(Status::Success)
    }
}
