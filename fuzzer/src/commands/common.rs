//! What several subcommands share: how a fuzz target is run and its inputs listed, the engine's limits, how a module file is read, how a run's end is reported, and the command line that opens a crash in the debugger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use capicola::files::write_atomically;
use capicola::fuzz::{Instrumentation, SanitizeRequest, SanitizerChoice, Target, TargetOptions};
use capicola::program::Stop;
use capicola::run::Run;
use capicola::snapshot_file::frame_text;
use capicola::values::format_val;
use capicola_engine::Config;
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
    /// Innermost frames, by function, that identify a crash or timeout: findings that differ only below them (or
    /// in offsets inside those functions) are one finding. 0 takes the whole backtrace.
    #[arg(long, value_name = "N", default_value_t = capicola::fuzz::DEDUP_FRAMES)]
    pub dedup_frames: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
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
            limits: self.limits.config(LimitDefaults::Input),
            max_fs_bytes: self.limits.fs_bytes(),
            dedup_frames: self.dedup_frames,
        })
    }
}

/// The sanitizer's settings; shared by `fuzz`, `replay`, `tmin`, `cmin` and `debug`, so that a crash replays and
/// debugs with the checks that found it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SanitizeArgs {
    /// Check the target's linear memory as ASan does (heap overflows, uses after free, double and invalid frees,
    /// shadow-stack overflows) [default: on for libFuzzer harnesses whose allocator the engine recognizes (malloc
    /// and free, with function names), off otherwise].
    #[arg(long, conflicts_with = "no_sanitize")]
    pub sanitize: bool,
    /// Run without the sanitizer.
    #[arg(long)]
    pub no_sanitize: bool,
    /// Heap blocks an input allocates and does not free by its end make it a crash (`memory-leak`); implies
    /// --sanitize.
    #[arg(long, conflicts_with = "no_sanitize")]
    pub detect_leaks: bool,
}

impl SanitizeArgs {
    /// What these flags decide for the module `wasm`.
    pub fn choice(&self, wasm: &[u8]) -> SanitizerChoice {
        let request = if self.no_sanitize {
            SanitizeRequest::Off
        } else if self.sanitize {
            SanitizeRequest::On
        } else {
            SanitizeRequest::Default
        };
        SanitizerChoice::decide(wasm, request, self.detect_leaks)
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

/// Which defaults the limits take: those of a whole run, or the tighter ones of one input of a fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitDefaults {
    /// `run` and `resume`: 4 GiB of linear memory, the size of one 32-bit memory.
    Run,
    /// `fuzz`, `replay`, `tmin`, `cmin` and `debug`: 2 GiB of linear memory per input (libFuzzer's default
    /// `-rss_limit_mb`), so that an input can take a campaign's host only so far.
    Input,
}

impl LimitDefaults {
    fn max_memory_bytes(self) -> u64 {
        match self {
            LimitDefaults::Run => 4 << 30,
            LimitDefaults::Input => 2 << 30,
        }
    }
}

/// The engine's limits. Passing one is never a host abort: instantiation traps ("resource exhausted"),
/// `memory.grow` and `table.grow` return -1, a deeper call or larger frame traps with "call stack exhausted", and a
/// snapshot holding more than the limits allow is refused.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Linear memory the guest may hold, over all its memories (suffixes K, M, G: `512M`) [default: 4G for `run`
    /// and `resume`; 2G per input for `fuzz`, `replay`, `tmin`, `cmin` and `debug`].
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_memory: Option<u64>,
    /// Table elements the guest may hold, over all its tables [default: 10000000].
    #[arg(long, value_name = "N")]
    pub max_table_elements: Option<u64>,
    /// Value stack of the guest, in 64-bit cells (locals and operands of all frames) [default: 4194304].
    #[arg(long, value_name = "CELLS")]
    pub max_stack: Option<u32>,
    /// Deepest call stack of the guest [default: 20000].
    #[arg(long, value_name = "N")]
    pub max_call_depth: Option<u32>,
    /// Bytes the files of the WASI program's in-memory filesystem may hold in total (suffixes K, M, G); writing
    /// more fails with ENOSPC [default: the sandbox's own limit].
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_fs_bytes: Option<u64>,
}

impl LimitArgs {
    /// An engine configuration with these limits (and `defaults` for those not given); its other settings are
    /// the engine's defaults.
    pub fn config(&self, defaults: LimitDefaults) -> Config {
        let base = Config::default();
        Config {
            max_memory_bytes: self
                .max_memory
                .unwrap_or_else(|| defaults.max_memory_bytes()),
            max_table_elements: self.max_table_elements.unwrap_or(base.max_table_elements),
            max_value_stack: self.max_stack.unwrap_or(base.max_value_stack),
            max_call_depth: self.max_call_depth.unwrap_or(base.max_call_depth),
            ..base
        }
    }

    /// The most bytes the virtual filesystem may hold, when given.
    pub fn fs_bytes(&self) -> Option<u64> {
        self.max_fs_bytes
    }
}

/// A number of bytes: digits with an optional binary suffix K, M, G or T (`512M` is 512 MiB).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown suffix `{c}` (use K, M, G or T)")),
            };
            (&text[..at], shift)
        }
        _ => (text, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes (like 65536, 64K, 512M or 4G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
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

/// Reports how `run` (of the module at `module_path`) stopped after being given `fuel` when it had
/// executed `before` instructions — results on stdout, a trap or the pause on stderr — saves it to `save` when
/// it paused, and gives the status the process exits with.
pub fn conclude(
    run: &Run,
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
            run.finish()
                .with_context(|| format!("cannot write back the directories of {module}"))?;
            Ok(if run.is_wasi() {
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
                    frame_text(frame, run.func_name(frame.func_index))
                );
            }
            run.finish()
                .with_context(|| format!("cannot write back the directories of {module}"))?;
            Ok(if run.is_wasi() {
                exit_status(TRAP_EXIT_CODE)
            } else {
                Status::Trapped
            })
        }
        Stop::OutOfFuel { position } => {
            let place = position.map_or_else(String::new, |p| {
                let name = run
                    .func_name(p.func_index)
                    .map(|name| format!(" ({name})"))
                    .unwrap_or_default();
                format!(" at func {}{name} offset {:#x}", p.func_index, p.offset)
            });
            let Some(save) = save else {
                errln!("out of fuel after {fuel} units{place}");
                if run.writes_back() {
                    errln!(
                        "the run did not end: its changes to --dir-rw directories were not written back"
                    );
                }
                return Ok(Status::OutOfFuel);
            };
            let bytes = run
                .save()
                .with_context(|| format!("cannot save the paused run of {module}"))?;
            write_atomically(save, &bytes)
                .with_context(|| format!("cannot write the snapshot {}", save.display()))?;
            let executed = run.fuel_consumed();
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

/// Reads an input file for a target that runs at most `max_len` bytes of it, saying so on stderr when the file is
/// longer (the target cuts it, as the fuzzer did when it ran it): a cut is never silent.
pub fn read_input(path: &Path, max_len: usize) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > max_len {
        errln!(
            "note: {} is {} bytes: only its first {max_len} run (--max-len {max_len}; raise it to run it whole)",
            path.display(),
            bytes.len()
        );
    }
    Ok(bytes)
}

/// `HOST::GUEST`, or `HOST` alone for the same path in the guest.
pub fn parse_dir(text: &str) -> Result<(PathBuf, String), String> {
    let (host, guest) = text.split_once("::").unwrap_or((text, text));
    if host.is_empty() || guest.is_empty() {
        return Err("expected HOST::GUEST or HOST".to_string());
    }
    Ok((PathBuf::from(host), guest.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_take_binary_suffixes() {
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64k"), Ok(64 << 10));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("4G"), Ok(4 << 30));
        assert!(parse_bytes("4X").is_err());
        assert!(parse_bytes("M").is_err());
        assert!(parse_bytes("99999999999T").is_err());
    }

    #[test]
    fn limits_default_by_command_and_reach_the_engine_config() {
        let none = LimitArgs::default();
        assert_eq!(none.config(LimitDefaults::Run).max_memory_bytes, 4 << 30);
        assert_eq!(none.config(LimitDefaults::Input).max_memory_bytes, 2 << 30);
        assert_eq!(none.fs_bytes(), None);
        let given = LimitArgs {
            max_memory: Some(64 << 20),
            max_table_elements: Some(10),
            max_stack: Some(1000),
            max_call_depth: Some(50),
            max_fs_bytes: Some(1 << 20),
        };
        let config = given.config(LimitDefaults::Input);
        assert_eq!(
            (
                config.max_memory_bytes,
                config.max_table_elements,
                config.max_value_stack,
                config.max_call_depth
            ),
            (64 << 20, 10, 1000, 50)
        );
        assert_eq!(given.fs_bytes(), Some(1 << 20));
    }
}
