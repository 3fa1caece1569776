//! `capicola run`: runs a WASI program, or invokes one exported function of a module and prints its results; pauses and saves the run when its fuel runs out.

use std::path::PathBuf;

use anyhow::Context;
use capicola::program::compile;
use capicola::run::Run;
use capicola::wasi_program::{Preopen, WasiOptions};
use capicola_engine::Engine;
use capicola_engine::wasi::DirMode;

use super::Status;
use super::common::{LimitArgs, LimitDefaults, conclude, parse_dir};

/// Runs a WASI program, or invokes an exported function of a WebAssembly module and prints its results.
///
/// FILE is a binary module (.wasm) or WebAssembly text (.wat).
///
/// A module that imports `wasi_snapshot_preview1` is a WASI program: it runs as a command
/// (`_start`, with ARGS as its arguments after the program name FILE) or a reactor
/// (`_initialize`, then the function --invoke names, with ARGS as that function's arguments).
/// It reads this process's stdin and writes to its stdout and stderr; it sees only the
/// environment variables given with --env and the directories given with --dir, --dir-rw and
/// --dir-ro, read lazily into an in-memory, copy-on-write sandbox: a directory when the program
/// first looks into it, a file when it first opens it (descriptors 3, 4, ... in the order
/// --dir, --dir-rw, --dir-ro). Clocks and randomness are the host's, or with --deterministic a
/// virtual clock that advances with the instructions executed and random bytes from --seed.
/// Put `--` before arguments that start with `-`.
///
/// Any other module can import only the `spectest` module (its print functions do nothing),
/// and --invoke must name the function to call. The start function, if any, runs first; a
/// trap while initializing segments or in the start function is a trap. ARGS are parsed by the
/// function's parameter types: `42`, `-1`, `0x7f`, `-1.5`, `inf`, `nan`, `nan:0x200000`; a v128
/// as `0x` and 32 hex digits; `null` for references.
///
/// Each result is printed on its own line with its type: `42:i32`, `-1.5:f64`,
/// `nan:0x200000:f32`, `0x…:v128`, `null:funcref`, `extern:N:externref`.
///
/// With --fuel N the run stops after N instructions. With --save-snapshot S it is then saved
/// to S (store, WASI state and files included), and `capicola resume S --module FILE` continues
/// it in another process; output already written stays written, so both processes together
/// print what an uninterrupted run prints. Changes to --dir-rw directories are written back
/// when the program ends (returns, exits or traps), also when it ends in `capicola resume`; a
/// run that stops out of fuel writes nothing back (it says so), its changes travel in the
/// snapshot when it is saved. Write-back is all or nothing per directory: everything is checked
/// and staged inside the directory first, so an error leaves the directory as it was.
///
/// Exit codes: for a WASI program, its own exit code (0 when it returned) and 134 when it
/// trapped; otherwise 0 the function returned and 1 it trapped (the message and the Wasm
/// backtrace go to stderr). For both: 2 a usage or load error (unreadable or invalid module,
/// unknown import or export, bad arguments); 3 the fuel ran out; 200 the fuel ran out and the
/// run was saved with --save-snapshot (no WASI program can exit with it: exit codes of 126 and
/// above trap).
#[derive(Debug, clap::Args)]
pub struct RunCommand {
    /// The module: binary (.wasm) or text (.wat).
    file: PathBuf,
    /// Name of the exported function to call (required unless FILE is a WASI program).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Arguments of the function, one per parameter; or of the WASI command.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Fuel budget for the whole run (start function included): the most instructions it may execute.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// When the fuel runs out, save the paused run to this file (written atomically) and exit with 200.
    #[arg(long, value_name = "S", requires = "fuel")]
    save_snapshot: Option<PathBuf>,
    /// Set an environment variable of the WASI program (`K` alone passes on this process's value).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Copy the host directory HOST into the sandbox as GUEST (HOST alone: the same path); the
    /// program may change the copy, the host directory stays as it is.
    #[arg(long, value_name = "HOST::GUEST", value_parser = parse_dir)]
    dir: Vec<(PathBuf, String)>,
    /// Like --dir, and the program's changes are written back to HOST when it ends.
    #[arg(long, value_name = "HOST::GUEST", value_parser = parse_dir)]
    dir_rw: Vec<(PathBuf, String)>,
    /// Like --dir, read-only: every change fails with EPERM.
    #[arg(long, value_name = "HOST::GUEST", value_parser = parse_dir)]
    dir_ro: Vec<(PathBuf, String)>,
    /// Deterministic mode: a virtual clock that advances with execution, random bytes from --seed.
    #[arg(long)]
    deterministic: bool,
    /// Seed of the random bytes in the deterministic mode.
    #[arg(
        long,
        value_name = "N",
        requires = "deterministic",
        default_value_t = 0
    )]
    seed: u64,
    #[command(flatten)]
    limits: LimitArgs,
}

impl RunCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let path = self.file.display();
        let bytes = std::fs::read(&self.file).with_context(|| format!("cannot read {path}"))?;
        let engine = Engine::new(self.limits.config(LimitDefaults::Run));
        let module = compile(&engine, &bytes).with_context(|| format!("cannot load {path}"))?;
        let dirs = [
            (self.dir, DirMode::Sandboxed),
            (self.dir_rw, DirMode::ReadWrite),
            (self.dir_ro, DirMode::ReadOnly),
        ];
        let wasi = WasiOptions {
            args: vec![path.to_string()],
            env: self.env,
            preopens: dirs
                .into_iter()
                .flat_map(|(dirs, mode)| {
                    dirs.into_iter()
                        .map(move |(host, guest)| Preopen { host, guest, mode })
                })
                .collect(),
            seed: self.deterministic.then_some(self.seed),
            max_fs_bytes: self.limits.fs_bytes(),
        };
        let mut run = Run::begin(&engine, module, self.invoke.as_deref(), &self.args, wasi)
            .with_context(|| match &self.invoke {
                Some(name) => format!("cannot call `{name}` in {path}"),
                None => format!("cannot run {path}"),
            })?;
        let fuel = self.fuel.unwrap_or(u64::MAX);
        let before = run.fuel_consumed();
        let stop = run
            .resume(fuel)
            .with_context(|| format!("cannot run {path}"))?;
        conclude(
            &run,
            stop,
            fuel,
            before,
            self.save_snapshot.as_deref(),
            &self.file,
        )
    }
}

/// `K=V`, or `K` alone for this process's value of `K`.
fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some(("", _)) => Err("the variable has no name".to_string()),
        Some((key, value)) => Ok((key.to_string(), value.to_string())),
        None => std::env::var(text)
            .map(|value| (text.to_string(), value))
            .map_err(|_| format!("`{text}` is not set here (give `{text}=VALUE`)")),
    }
}
