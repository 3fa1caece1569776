//! `capicola tmin`: shrinks a crashing input while it keeps crashing the same way.

use std::path::PathBuf;

use anyhow::Context;
use capicola::files::write_atomically;
use capicola::fuzz::Symbols;
use capicola::fuzz::minimize;
use capicola::fuzz::sanitizer::source_lines;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{SanitizeArgs, TargetArgs, TimeoutArgs, load_target, read_input, read_module};

/// Minimizes a crashing (or timing-out) input: writes the smallest input found that is still the same finding as
/// `capicola fuzz` identifies it — the same trap kind (or sanitizer violation, or timeout) in the same innermost
/// functions (`--dedup-frames`, 3 by default) — or, with `--same-backtrace`, that fails with the same whole Wasm
/// backtrace, offsets included.
///
/// It removes blocks of halving sizes, then replaces bytes with `0` characters and zero bytes, until a pass
/// changes nothing. Deterministic.
#[derive(Debug, clap::Args)]
pub struct TminCommand {
    /// The fuzz target (.wasm or .wat).
    target: PathBuf,
    /// The failing input.
    input: PathBuf,
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
    target_args: TargetArgs,
    #[command(flatten)]
    sanitize: SanitizeArgs,
    #[command(flatten)]
    timeout: TimeoutArgs,
    /// Arguments of a WASI program (after `--`); `@@` stands for the input file.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl TminCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let wasm = read_module(&self.target)?;
        let options = self.timeout.apply(self.target_args.options(
            &self.target,
            &self.args,
            OutputMode::Discard,
        )?);
        let sanitizer = self.sanitize.choice(&wasm);
        let mut target = load_target(&self.target, &wasm, &options, sanitizer.instrumentation())?;
        errln!("{}", sanitizer.banner(target.module()));
        let input = read_input(&self.input, options.max_len)?;
        let report = minimize::tmin(&mut target, &input, self.max_execs, self.same_backtrace)
            .with_context(|| format!("cannot minimize {}", self.input.display()))?;
        let output = self.output.unwrap_or_else(|| {
            let mut name = self.input.clone().into_os_string();
            name.push(".min");
            PathBuf::from(name)
        });
        write_atomically(&output, &report.input)
            .with_context(|| format!("cannot write {}", output.display()))?;
        outln!(
            "{} -> {}: {} -> {} bytes in {} execs, same failure:\n{}",
            self.input.display(),
            output.display(),
            input.len(),
            report.input.len(),
            report.execs,
            report.outcome.describe(&Symbols {
                module: target.module(),
                debug_info: source_lines(&wasm).as_ref(),
            })
        );
        Ok(Status::Success)
    }
}
