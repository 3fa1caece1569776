//! What several subcommands share: how a fuzz target is run and its inputs listed, how a module file is read, how a run's end is reported, and the command line that opens a crash in the debugger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use capicola::files::write_atomically;
use capicola::fuzz::{Instrumentation, Target, TargetOptions};
use capicola::session::{Session, Stop};
use capicola::snapshot_file::frame_text;
use capicola::values::format_val;
use capicola_engine::wasi::{OutputMode, TRAP_EXIT_CODE};

use super::Status;

/// How a target is run; shared by `fuzz`, `replay`, `tmin` and `cmin`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Instructions one input may run before it counts as a timeout (deterministic, unlike a wall-clock limit).
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub fuel: u64,
    /// Instructions the target's initialization may run (up to `LLVMFuzzerInitialize`'s end, or a WASI
    /// program's first read of its input).
    #[arg(long, value_name = "N", default_value_t = 10_000_000_000)]
    pub init_fuel: u64,
    /// Largest input in bytes; longer inputs are cut (libFuzzer's -max_len).
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub max_len: usize,
    /// Sets an environment variable of the guest (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

impl TargetArgs {
    /// The target options for `target` run with `args`, its output going to `output`.
    pub fn options(
        &self,
        target: &Path,
        args: &[String],
        output: OutputMode,
    ) -> anyhow::Result<TargetOptions> {
        let env = self
            .env
            .iter()
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--env {pair}: expected KEY=VALUE"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(TargetOptions {
            program_name: target
                .file_name()
                .map_or_else(|| "target".into(), |n| n.to_string_lossy().into_owned()),
            args: args.to_vec(),
            env,
            max_len: self.max_len,
            fuel: self.fuel,
            init_fuel: self.init_fuel,
            timeout: None,
            deadline: None,
            output,
            fresh: false,
        })
    }
}

/// The wall-clock limit of each input, for the commands that run many (`fuzz`, `replay`, `tmin`, `cmin`).
#[derive(Debug, Clone, clap::Args)]
pub struct TimeoutArgs {
    /// Wall-clock seconds one input may run before it counts as a timeout, whatever fuel it has left (libFuzzer's
    /// -timeout; fractions allowed; 0 for no limit). Fuel alone bounds time only as far as every instruction and
    /// host call is cheap.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,
}

impl TimeoutArgs {
    /// `options` with this limit.
    pub fn apply(&self, options: TargetOptions) -> TargetOptions {
        TargetOptions {
            timeout: (!self.timeout.is_zero()).then_some(self.timeout),
            ..options
        }
    }
}

/// A duration given in seconds, with fractions (`0.5`).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}

/// The input files named by `inputs`: each a file, or a folder standing for every input file in it.
pub fn expand_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(
                capicola::fuzz::output::input_files(input)
                    .with_context(|| format!("cannot list {}", input.display()))?,
            );
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Reads a module: binary, or WebAssembly text.
pub fn read_module(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let binary = wat::parse_bytes(&bytes)
        .with_context(|| format!("{} is neither a binary module nor text", path.display()))?;
    Ok(binary.into_owned())
}

/// Loads a target, naming the file in errors.
pub fn load_target(
    path: &Path,
    wasm: &[u8],
    options: &TargetOptions,
    instrumentation: Instrumentation,
) -> anyhow::Result<Target> {
    Target::load(wasm, options, instrumentation)
        .with_context(|| format!("cannot load the fuzz target {}", path.display()))
}

/// The target's name: its file name without extension.
pub fn target_name(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "target".into(), |s| s.to_string_lossy().into_owned())
}

/// One word of a shell command line as a POSIX shell reads it back: as it is when it holds only characters no
/// shell treats specially, in single quotes otherwise. Every command line capicola prints quotes its words with it.
pub fn shell_word(word: impl AsRef<std::ffi::OsStr>) -> String {
    let word = word.as_ref().to_string_lossy();
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
    {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The shell command that opens `input` of `target` in the debugger (what `replay` and `fuzz` print for crashes).
pub fn debug_command_line(target: &Path, input: &Path, args: &[String]) -> String {
    let mut line = format!(
        "capicola debug {} --input {}",
        shell_word(target),
        shell_word(input)
    );
    if !args.is_empty() {
        line.push_str(" --");
        for a in args {
            line.push(' ');
            line.push_str(&shell_word(a));
        }
    }
    line
}

/// Reports how a run of `session` (of the module at `module_path`) stopped after being given `fuel` when it had
/// executed `before` instructions — results on stdout, a trap or the pause on stderr — saves it to `save` when
/// it paused, and gives the status the process exits with.
pub fn conclude(
    session: &Session,
    stop: Stop,
    fuel: u64,
    before: u64,
    save: Option<&Path>,
    module_path: &Path,
) -> anyhow::Result<Status> {
    let module = module_path.display();
    match stop {
        Stop::Finished { results, exit_code } => {
            for result in results {
                outln!("{}", format_val(result));
            }
            session
                .finish()
                .with_context(|| format!("cannot write back the directories of {module}"))?;
            Ok(if session.is_wasi() {
                exit_status(exit_code)
            } else {
                Status::Success
            })
        }
        Stop::Trapped(trap) => {
            errln!("error: trap: {trap}");
            errln!("wasm backtrace:");
            for (depth, frame) in trap.backtrace.iter().enumerate() {
                errln!(
                    "  {depth}: {}",
                    frame_text(frame, session.func_name(frame.func_index))
                );
            }
            session
                .finish()
                .with_context(|| format!("cannot write back the directories of {module}"))?;
            Ok(if session.is_wasi() {
                exit_status(TRAP_EXIT_CODE)
            } else {
                Status::Trapped
            })
        }
        Stop::OutOfFuel { position } => {
            let place = position.map_or_else(String::new, |p| {
                let name = session
                    .func_name(p.func_index)
                    .map(|name| format!(" ({name})"))
                    .unwrap_or_default();
                format!(" at func {}{name} offset {:#x}", p.func_index, p.offset)
            });
            let Some(save) = save else {
                errln!("out of fuel after {fuel} units{place}");
                if session.writes_back() {
                    errln!(
                        "the run did not end: its changes to --dir-rw directories were not written back"
                    );
                }
                return Ok(Status::OutOfFuel);
            };
            let bytes = session
                .save()
                .with_context(|| format!("cannot save the paused run of {module}"))?;
            write_atomically(save, &bytes)
                .with_context(|| format!("cannot write the snapshot {}", save.display()))?;
            let executed = session.fuel_consumed();
            errln!(
                "paused{place} after {} instructions ({executed} in all); snapshot saved to {} \
                 (continue with `capicola resume {} --module {}`)",
                executed - before,
                save.display(),
                shell_word(save),
                shell_word(module_path),
            );
            Ok(Status::Paused)
        }
    }
}

/// The status for a WASI program's exit code (0..=125, or 134 after a trap).
pub fn exit_status(code: i32) -> Status {
    Status::Exited(u8::try_from(code).unwrap_or(u8::MAX))
}

/// `HOST::GUEST`, or `HOST` alone for the same path in the guest.
pub fn parse_dir(text: &str) -> Result<(PathBuf, String), String> {
    let (host, guest) = text.split_once("::").unwrap_or((text, text));
    if host.is_empty() || guest.is_empty() {
        return Err("expected HOST::GUEST or HOST".to_string());
    }
    Ok((PathBuf::from(host), guest.to_string()))
}
