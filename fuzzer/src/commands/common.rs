//! What several subcommands share: how a fuzz target is run and its inputs listed, the engine's limits, how a module file is read, how a run's end is reported, and the command line that opens a crash in the debugger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use capicola::files::write_atomically;
use capicola::fuzz::settings::{self, Settings};
use capicola::fuzz::{Instrumentation, SanitizeRequest, SanitizerChoice, Target, TargetOptions};
use capicola::program::Stop;
use capicola::run::Run;
use capicola::snapshot_file::frame_text;
use capicola::values::format_val;
use capicola_engine::Config;
use capicola_engine::wasi::{OutputMode, TRAP_EXIT_CODE};

use super::Status;

/// How a target is run; shared by `fuzz`, `replay`, `tmin`, `cmin` and `debug`. A flag not given takes the value of
/// the campaign whose output folder holds the inputs (its `settings` file), or else its default.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Instructions one input may run before it counts as a timeout (deterministic, unlike a wall-clock limit)
    /// [default: 10000000].
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,
    /// Instructions the target's initialization may run (up to `LLVMFuzzerInitialize`'s end, or a WASI
    /// program's first read of its input) [default: 10000000000].
    #[arg(long, value_name = "N")]
    pub init_fuel: Option<u64>,
    /// Largest input in bytes; longer inputs are cut, and commands that run a given input say so (libFuzzer's
    /// -max_len) [default: 4096].
    #[arg(long, value_name = "BYTES")]
    pub max_len: Option<usize>,
    /// Sets an environment variable of the guest (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Innermost frames, by function, that identify a crash or timeout: findings that differ only below them (or
    /// in offsets inside those functions) are one finding. 0 takes the whole backtrace [default: 3].
    #[arg(long, value_name = "N")]
    pub dedup_frames: Option<usize>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl TargetArgs {
    /// `settings` with the values this command line gives in their place; adds the flags given to `given`.
    fn apply(&self, settings: &mut Settings, given: &mut Vec<&'static str>) -> anyhow::Result<()> {
        let mut set = |flag: &'static str, present: bool| {
            if present {
                given.push(flag);
            }
            present
        };
        if set("--fuel", self.fuel.is_some()) {
            settings.fuel = self.fuel.unwrap_or(settings.fuel);
        }
        if set("--init-fuel", self.init_fuel.is_some()) {
            settings.init_fuel = self.init_fuel.unwrap_or(settings.init_fuel);
        }
        if set("--max-len", self.max_len.is_some()) {
            settings.max_len = self.max_len.unwrap_or(settings.max_len);
        }
        if set("--dedup-frames", self.dedup_frames.is_some()) {
            settings.dedup_frames = self.dedup_frames.unwrap_or(settings.dedup_frames);
        }
        if set("--env", !self.env.is_empty()) {
            settings.env = self
                .env
                .iter()
                .map(|pair| {
                    pair.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .with_context(|| format!("--env {pair}: expected KEY=VALUE"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
        }
        let limits = &self.limits;
        if let Some(bytes) = limits.max_memory {
            given.push("--max-memory");
            settings.max_memory = bytes;
        }
        if let Some(n) = limits.max_table_elements {
            given.push("--max-table-elements");
            settings.max_table_elements = n;
        }
        if let Some(n) = limits.max_stack {
            given.push("--max-stack");
            settings.max_stack = n;
        }
        if let Some(n) = limits.max_call_depth {
            given.push("--max-call-depth");
            settings.max_call_depth = n;
        }
        if let Some(bytes) = limits.max_fs_bytes {
            given.push("--max-fs-bytes");
            settings.max_fs_bytes = Some(bytes);
        }
        Ok(())
    }
}

/// The settings of a target run by a command that has no campaign's settings to go by: every default.
fn default_settings(target: &Path, wasm: &[u8]) -> Settings {
    let limits = LimitArgs::default().config(LimitDefaults::Input);
    let options = TargetOptions::default();
    Settings {
        target: std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf()),
        target_hash: settings::module_hash(wasm),
        max_len: options.max_len,
        fuel: options.fuel,
        init_fuel: options.init_fuel,
        timeout: Some(DEFAULT_TIMEOUT),
        max_memory: limits.max_memory_bytes,
        max_table_elements: limits.max_table_elements,
        max_stack: limits.max_value_stack,
        max_call_depth: limits.max_call_depth,
        max_fs_bytes: None,
        sanitize: false,
        detect_leaks: false,
        dedup_frames: options.dedup_frames,
        env: Vec::new(),
        args: Vec::new(),
        dicts: Vec::new(),
        seed: None,
    }
}

/// The arguments of every command that runs inputs of a target (fuzz, replay, tmin, cmin, cov): how to load and run
/// it, the sanitizer, the wall-clock limit per input and a WASI program's arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub sanitize: SanitizeArgs,
    #[command(flatten)]
    pub timeout: TimeoutArgs,
    /// Arguments of a WASI program (after `--`); `@@` stands for the input file.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl RunArgs {
    /// The target (`None`: the one the campaign's settings name) and how to run `inputs`, as [`prepare_target`]
    /// sets them up from these arguments.
    pub fn prepare(
        &self,
        target: Option<&Path>,
        inputs: &[PathBuf],
        output: OutputMode,
    ) -> anyhow::Result<TargetSetup> {
        prepare_target(RunRequest {
            target,
            inputs,
            target_args: &self.target,
            sanitize: &self.sanitize,
            timeout: Some(&self.timeout),
            args: &self.args,
            output,
        })
    }
}

/// What a command that runs inputs of a target was given: the target (unless the campaign's settings name it), the
/// inputs (whose output folder may hold a campaign's settings), and its flags.
pub struct RunRequest<'a> {
    pub target: Option<&'a Path>,
    pub inputs: &'a [PathBuf],
    pub target_args: &'a TargetArgs,
    pub sanitize: &'a SanitizeArgs,
    /// `None` for a command without a wall-clock limit (`debug`).
    pub timeout: Option<&'a TimeoutArgs>,
    /// Arguments of a WASI program (empty: the campaign's, if any).
    pub args: &'a [String],
    pub output: OutputMode,
}

/// A target module and how to run its inputs: the campaign's settings (when the inputs lie in a campaign's output
/// folder) with the command line's flags in their place.
pub struct TargetSetup {
    /// The module's file.
    pub path: PathBuf,
    pub wasm: Vec<u8>,
    pub settings: Settings,
    pub options: TargetOptions,
    pub sanitizer: SanitizerChoice,
}

impl TargetSetup {
    /// Boots the target with `instrumentation`, naming its file in errors.
    pub fn load(&self, instrumentation: Instrumentation) -> anyhow::Result<Target> {
        Target::load(&self.wasm, &self.options, instrumentation)
            .with_context(|| format!("cannot load the fuzz target {}", self.path.display()))
    }

    /// The arguments of a WASI program.
    pub fn args(&self) -> &[String] {
        &self.settings.args
    }
}

/// The one way `fuzz`, `replay`, `tmin`, `cmin` and `debug` set up a target: reads the module, takes the settings
/// of the campaign whose output folder holds the first of the inputs that lies in one (if any), puts the flags
/// given on the command line in their place, says on stderr which came from where, and decides the sanitizer.
pub fn prepare_target(request: RunRequest<'_>) -> anyhow::Result<TargetSetup> {
    let found = request
        .inputs
        .iter()
        .find_map(|input| Settings::find(input));
    let campaign = match &found {
        Some(file) => Some(Settings::read(file)?),
        None => None,
    };
    let path = match (request.target, &campaign) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(campaign)) => campaign.target.clone(),
        (None, None) => bail!(
            "no target: name it before the inputs, or give inputs of a campaign's output folder (its `settings` \
             file names the target)"
        ),
    };
    let wasm = read_module(&path)?;
    let mut settings = campaign
        .clone()
        .unwrap_or_else(|| default_settings(&path, &wasm));
    settings.target = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    let mut given = Vec::new();
    request.target_args.apply(&mut settings, &mut given)?;
    if let Some(timeout) = request.timeout
        && let Some(limit) = timeout.timeout
    {
        given.push("--timeout");
        settings.timeout = (!limit.is_zero()).then_some(limit);
    }
    if !request.args.is_empty() {
        given.push("ARGS");
        settings.args = request.args.to_vec();
    }
    let sanitize = request.sanitize;
    let sanitizer = if sanitize.sanitize || sanitize.no_sanitize || sanitize.detect_leaks {
        given.push("the sanitizer's flags");
        sanitize.choice(&wasm)
    } else if let Some(campaign) = &campaign {
        let request = if campaign.sanitize {
            SanitizeRequest::On
        } else {
            SanitizeRequest::Off
        };
        SanitizerChoice::decide(&wasm, request, campaign.detect_leaks)
    } else {
        sanitize.choice(&wasm)
    };
    settings.sanitize = sanitizer.on;
    settings.detect_leaks = sanitizer.detect_leaks;
    if let (Some(file), Some(campaign)) = (&found, &campaign) {
        let hash = settings::module_hash(&wasm);
        errln!(
            "settings of the campaign in {}: {}{}",
            file.display(),
            describe_settings(campaign),
            if given.is_empty() {
                String::new()
            } else {
                format!(
                    "; in their place from the command line: {}",
                    given.join(", ")
                )
            }
        );
        if hash != campaign.target_hash {
            errln!(
                "note: {} is not the module the campaign ran (its bytes changed): findings may not reproduce",
                path.display()
            );
        }
    }
    settings.target_hash = settings::module_hash(&wasm);
    let options = settings.target_options(request.output);
    Ok(TargetSetup {
        path,
        wasm,
        settings,
        options,
        sanitizer,
    })
}

/// The settings that decide a run, in the command line's words.
fn describe_settings(s: &Settings) -> String {
    let mut text = format!(
        "target {}, --max-len {}, --fuel {}, --timeout {}, --max-memory {}, sanitizer {}{}, --dedup-frames {}",
        s.target.display(),
        s.max_len,
        s.fuel,
        s.timeout
            .map_or_else(|| "0".to_string(), |t| t.as_secs_f64().to_string()),
        s.max_memory,
        if s.sanitize { "on" } else { "off" },
        if s.detect_leaks {
            " with --detect-leaks"
        } else {
            ""
        },
        s.dedup_frames
    );
    if !s.args.is_empty() {
        text.push_str(&format!(", args `{}`", s.args.join(" ")));
    }
    text
}

/// Splits the positional paths of `replay` and `tmin`: the first is the target when it is a module (`.wasm`, `.wat`,
/// or a file starting as a binary module does); the others (all, otherwise) are inputs.
pub fn split_target(paths: &[PathBuf]) -> (Option<&Path>, &[PathBuf]) {
    match paths.split_first() {
        Some((first, rest)) if is_module(first) => (Some(first), rest),
        _ => (None, paths),
    }
}

/// Whether `path` names a module rather than an input.
fn is_module(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|ext| ext == "wasm" || ext == "wat")
    {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut magic))
        .is_ok_and(|()| magic == *b"\0asm")
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

/// Wall-clock limit of one input when neither the command line nor a campaign's settings give one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The wall-clock limit of each input, for the commands that run many (`fuzz`, `replay`, `tmin`, `cmin`).
#[derive(Debug, Clone, clap::Args)]
pub struct TimeoutArgs {
    /// Wall-clock seconds one input may run before it counts as a timeout, whatever fuel it has left (libFuzzer's
    /// -timeout; fractions allowed; 0 for no limit) [default: 10]. Fuel alone bounds time only as far as every
    /// instruction and host call is cheap.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
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
            // Host directories are read lazily: what the run has not read yet is read on resume, from the
            // directories given again.
            let dirs: String = run
                .host_dir_options()
                .into_iter()
                .map(|(flag, value)| format!(" {flag} {}", shell_word(value)))
                .collect();
            errln!(
                "paused{place} after {} instructions ({executed} in all); snapshot saved to {} \
                 (continue with `capicola resume {} --module {}{dirs}`)",
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
