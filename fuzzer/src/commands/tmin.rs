//! `capicola tmin`: shrinks a crashing input while it keeps crashing the same way.

use std::path::PathBuf;

use anyhow::{Context, bail};
use capicola::files::write_atomically;
use capicola::fuzz::Symbols;
use capicola::fuzz::minimize;
use capicola::fuzz::sanitizer::source_lines;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{RunArgs, read_input, split_target};

/// Minimizes a crashing (or timing-out) input: writes the smallest input found that is still the same finding as
/// `capicola fuzz` identifies it — the same trap kind (or sanitizer violation, or timeout) in the same innermost
/// functions (`--dedup-frames`, 3 by default) — or, with `--same-backtrace`, that fails with the same whole Wasm
/// backtrace, offsets included.
///
/// It removes blocks of halving sizes, then replaces bytes with `0` characters and zero bytes, until a pass
/// changes nothing. Deterministic. An input of a campaign's output folder is run with the campaign's settings
/// (TARGET then being optional), as `replay` runs it.
#[derive(Debug, clap::Args)]
pub struct TminCommand {
    /// The fuzz target (.wasm or .wat; optional for an input of a campaign's output folder), then the failing
    /// input.
    #[arg(required = true, num_args = 1..=2, value_name = "[TARGET] INPUT")]
    paths: Vec<PathBuf>,
    /// Where to write the minimized input [default: INPUT.min].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Most inputs to run.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_execs: u64,
    /// Keep the whole backtrace, offsets included, rather than the finding's identity.
    #[arg(long)]
    same_backtrace: bool,
    #[command(flatten)]
    run: RunArgs,
}

impl TminCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let (target, inputs) = split_target(&self.paths);
        let [input_path] = inputs else {
            bail!("expected one input to minimize, after the target");
        };
        let setup = self.run.prepare(target, inputs, OutputMode::Discard)?;
        let mut target = setup.load(setup.sanitizer.instrumentation())?;
        errln!("{}", setup.sanitizer.banner(target.module()));
        let input = read_input(input_path, setup.options.max_len)?;
        let report = minimize::tmin(&mut target, &input, self.max_execs, self.same_backtrace)
            .with_context(|| format!("cannot minimize {}", input_path.display()))?;
        let output = self.output.unwrap_or_else(|| {
            let mut name = input_path.clone().into_os_string();
            name.push(".min");
            PathBuf::from(name)
        });
        write_atomically(&output, &report.input)
            .with_context(|| format!("cannot write {}", output.display()))?;
        outln!(
            "{} -> {}: {} -> {} bytes in {} execs, same failure:\n{}",
            input_path.display(),
            output.display(),
            input.len(),
            report.input.len(),
            report.execs,
            report.outcome.describe(&Symbols {
                module: target.module(),
                debug_info: source_lines(&setup.wasm).as_ref(),
            })
        );
        Ok(Status::Success)
    }
}
