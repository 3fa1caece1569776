//! `capicola cmin`: picks a smaller corpus with the same coverage.

use std::path::PathBuf;

use anyhow::{Context, bail};
use capicola::files::write_atomically;
use capicola::fuzz::Instrumentation;
use capicola::fuzz::minimize;
use capicola::fuzz::output::input_files;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{
    SanitizeArgs, TargetArgs, TimeoutArgs, expand_inputs, load_target, read_input, read_module,
};

/// Minimizes a corpus: copies to OUT a subset of the inputs that covers every edge, in every hit-count class,
/// that the whole corpus covers (as afl-cmin: for each edge the smallest input reaching it, rarest edges first).
/// Inputs that crash or time out are left out.
#[derive(Debug, clap::Args)]
pub struct CminCommand {
    /// The fuzz target (.wasm or .wat).
    target: PathBuf,
    /// Corpus folders or files (repeatable).
    #[arg(short = 'i', long = "input", value_name = "DIR", required = true)]
    inputs: Vec<PathBuf>,
    /// Folder to copy the kept inputs to (created; must be empty).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    #[command(flatten)]
    target_args: TargetArgs,
    #[command(flatten)]
    sanitize: SanitizeArgs,
    #[command(flatten)]
    timeout: TimeoutArgs,
    /// Arguments of a WASI program (after `--`); `@@` stands for the input file.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl CminCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let wasm = read_module(&self.target)?;
        let options = self.timeout.apply(self.target_args.options(
            &self.target,
            &self.args,
            OutputMode::Discard,
        )?);
        let sanitizer = self.sanitize.choice(&wasm);
        let mut target = load_target(
            &self.target,
            &wasm,
            &options,
            Instrumentation {
                coverage: true,
                cmplog: false,
                ..sanitizer.instrumentation()
            },
        )?;
        errln!("{}", sanitizer.banner(target.module()));
        let files = expand_inputs(&self.inputs)?;
        let mut inputs = Vec::with_capacity(files.len());
        for file in &files {
            inputs.push(read_input(file, options.max_len)?);
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
