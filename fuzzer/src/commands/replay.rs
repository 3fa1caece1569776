//! `capicola replay`: runs inputs through a fuzz target and prints what each did.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use capicola::fuzz::sanitizer::source_lines;
use capicola::fuzz::{InputOutcome, Symbols};
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{
    RunArgs, TargetSetup, debug_command_line, expand_inputs, parse_seconds, read_input,
    split_target,
};
use super::debug::DebugCommand;

/// Exit code when the time limit ended the replay before every input ran.
const EXIT_INTERRUPTED: u8 = 4;

/// Runs inputs through a fuzz target, as `capicola fuzz` runs them, and prints what each did: `ok`, the trap
/// and its Wasm backtrace (with function names from the name section), or the stack where the fuel ran out.
///
/// The sanitizer is on or off as for `capicola fuzz` (`--sanitize`, `--no-sanitize`, `--detect-leaks`; the first
/// line on stderr says which and what it checks). A sanitizer finding is a crash: it is printed as ASan prints
/// its reports — the violation and the access, the backtrace, and where the heap block concerned was allocated
/// and freed, with source lines for a module built with `-g`.
///
/// INPUT is a file or a folder (every file in it). Inputs of a campaign's output folder (`OUT/crashes/X`,
/// `OUT/queue/`, ...) run with the campaign's settings (`OUT/settings`: the target, `--max-len`, `--fuel`, the
/// limits, the sanitizer, ARGS...), TARGET then being optional; flags given on the command line take their place.
/// The first line on stderr says which settings came from where. The guest's own output is shown as it runs. For each crash,
/// the command that opens it in the time-travel debugger is printed; `--debug` opens the first one.
///
/// `--timeout` bounds each input in wall-clock time, `--max-total-time` the whole command (initialization
/// included): inputs not run by then are listed as not run.
///
/// Exit codes: 0 every input ran to its end; 1 some input crashed (a sanitizer finding included), grew memory past
/// `--max-memory` (`out-of-memory`) or hit an engine bug; 3 some input timed
/// out and none crashed; 2 a usage or load error (an initialization still running at `--max-total-time`
/// included); 4 `--max-total-time` ran out before every input ran, and none crashed.
#[derive(Debug, clap::Args)]
pub struct ReplayCommand {
    /// The fuzz target (.wasm or .wat; optional for inputs of a campaign's output folder), then the inputs: files
    /// or folders.
    #[arg(required = true, value_name = "[TARGET] INPUT")]
    paths: Vec<PathBuf>,
    /// Opens the first crashing input in the time-travel debugger (`capicola debug`) after the replay.
    #[arg(long)]
    debug: bool,
    /// Stop after this many seconds, counted from the start, initialization included.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    max_total_time: Option<Duration>,
    #[command(flatten)]
    run: RunArgs,
}

impl ReplayCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let started = Instant::now();
        let (target, inputs) = split_target(&self.paths);
        if inputs.is_empty() {
            bail!("no input to replay");
        }
        let setup = self.run.prepare(target, inputs, OutputMode::Inherit)?;
        let mut options = setup.options.clone();
        options.deadline = self.max_total_time.and_then(|t| started.checked_add(t));
        let setup = TargetSetup { options, ..setup };
        let mut target = setup.load(setup.sanitizer.instrumentation())?;
        errln!("{}", setup.sanitizer.banner(target.module()));
        let (module, debug_info) = (target.module().clone(), source_lines(&setup.wasm));
        let symbols = Symbols {
            module: &module,
            debug_info: debug_info.as_ref(),
        };
        let files = expand_inputs(inputs)?;
        let (mut crashed, mut timed_out, mut interrupted) = (false, false, false);
        let mut first_crash = None;
        for (done, file) in files.iter().enumerate() {
            let input = read_input(file, setup.options.max_len)?;
            let outcome = target.run(&input);
            if outcome == InputOutcome::Interrupted {
                interrupted = true;
                errln!(
                    "--max-total-time ran out while {} ran: it and {} more input(s) not run to their end",
                    file.display(),
                    files.len() - done - 1
                );
                break;
            }
            crashed |= matches!(
                outcome,
                InputOutcome::Trapped(_) | InputOutcome::Exited { .. } | InputOutcome::EngineBug(_)
            );
            timed_out |= matches!(outcome, InputOutcome::Timeout { .. });
            outln!(
                "{} ({} bytes): {}",
                file.display(),
                input.len(),
                outcome.describe(&symbols)
            );
            if matches!(
                outcome,
                InputOutcome::Trapped(_) | InputOutcome::Exited { .. }
            ) {
                outln!(
                    "  debug it: {}",
                    debug_command_line(&setup.path, file, setup.args())
                );
                first_crash.get_or_insert_with(|| file.clone());
            }
        }
        if self.debug {
            let Some(input) = first_crash else {
                outln!("no input crashed: nothing to debug");
                return Ok(Status::Success);
            };
            return DebugCommand::for_input(
                setup.path.clone(),
                input,
                self.run.target.clone(),
                self.run.sanitize.clone(),
                self.run.args.clone(),
            )
            .execute();
        }
        Ok(if crashed {
            Status::Trapped
        } else if interrupted {
            Status::Exited(EXIT_INTERRUPTED)
        } else if timed_out {
            Status::OutOfFuel
        } else {
            Status::Success
        })
    }
}
