//! `capicola debug`: replays one input of a fuzz target under the time-travel debugger.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use capicola::debug::{Session, commands, gdb};
use capicola_engine::timeline::TimelineConfig;
use capicola_engine::wasi::OutputMode;

use super::Status;
use super::common::{RunRequest, SanitizeArgs, TargetArgs, prepare_target, read_input};

/// Replays an input (typically a crash the fuzzer found) under the time-travel debugger: the target is booted as
/// `capicola fuzz` boots it, the input's run is recorded as it goes, and every earlier instruction can be reached
/// again — step and continue backwards, breakpoints by source line, memory watches, and `last-write ADDR`.
///
/// The run first goes to its end (the trap, for a crash). On a terminal, a full-screen UI shows the source, call
/// stack, locals, operand stack, globals and memory, and takes commands on its command line; otherwise (or with
/// `--no-tui`) commands are read line by line from standard input, or from `--batch FILE`. `help` lists them.
/// Source lines need a module built with `-g`.
///
/// The sanitizer is on or off as for `replay` (same flags, same default): a run stopped by a finding shows its
/// report, and `info block ADDR` tells who allocated and freed the heap block at or nearest ADDR.
///
/// Exit codes: 0 every command ran; 1 a command failed; 2 a usage or load error.
#[derive(Debug, clap::Args)]
pub struct DebugCommand {
    /// The fuzz target (.wasm or .wat), as given to `capicola fuzz`; optional for an input of a campaign's output
    /// folder, which runs with the campaign's settings (`OUT/settings`) as `replay` runs it.
    target: Option<PathBuf>,
    /// The input to replay.
    #[arg(long, short = 'i', value_name = "FILE")]
    input: PathBuf,
    /// Runs the debugger commands in FILE (one per line, `#` starts a comment) and prints each with its result.
    #[arg(long, value_name = "FILE", conflicts_with = "gdb")]
    batch: Option<PathBuf>,
    /// Serves the recorded run to one LLDB (with its Wasm plugin, e.g. Debian's lldb-22) on 127.0.0.1:PORT instead of
    /// taking commands (0: any free port; the port is printed). The debugger starts at the first instruction of the
    /// input's run, so that breakpoints can be set before `continue` runs to the trap; `process continue --reverse`
    /// goes back (and `process continue --forward` forwards again).
    #[arg(long, value_name = "PORT")]
    gdb: Option<u16>,
    /// Memory the timeline's checkpoints may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    budget: usize,
    /// Instructions between checkpoints near the current position (the most a backward step replays).
    #[arg(long, value_name = "N", default_value_t = 1 << 20)]
    interval: u64,
    /// Stay at the start of the input's run instead of running to its end first.
    #[arg(long)]
    no_run: bool,
    /// Read commands line by line even on a terminal, instead of opening the terminal UI.
    #[arg(long)]
    no_tui: bool,
    #[command(flatten)]
    target_args: TargetArgs,
    #[command(flatten)]
    sanitize: SanitizeArgs,
    /// Arguments of a WASI program (after `--`); `@@` stands for the input file.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl DebugCommand {
    /// The debugger on `input`, with default settings otherwise.
    pub fn for_input(
        target: PathBuf,
        input: PathBuf,
        target_args: TargetArgs,
        sanitize: SanitizeArgs,
        args: Vec<String>,
    ) -> Self {
        DebugCommand {
            target: Some(target),
            input,
            batch: None,
            gdb: None,
            budget: 256,
            interval: 1 << 20,
            no_run: false,
            no_tui: false,
            target_args,
            sanitize,
            args,
        }
    }

    pub fn execute(self) -> anyhow::Result<Status> {
        let setup = prepare_target(RunRequest {
            target: self.target.as_deref(),
            inputs: std::slice::from_ref(&self.input),
            target_args: &self.target_args,
            sanitize: &self.sanitize,
            timeout: None,
            args: &self.args,
            output: OutputMode::Capture,
        })?;
        let input = read_input(&self.input, setup.options.max_len)?;
        let config = TimelineConfig {
            budget: self.budget << 20,
            interval: self.interval.max(1),
            ..TimelineConfig::default()
        };
        let (wasm, target) = (&setup.wasm, &setup.path);
        let mut session = Session::new(wasm, &setup.options, setup.sanitizer.on, &input, config)
            .with_context(|| format!("cannot start {}", target.display()))?;
        errln!("{}", setup.sanitizer.banner(&session.module));
        if session.debug_info.is_none() {
            errln!(
                "note: {} has no DWARF line table (build with -g for source lines)",
                target.display()
            );
        }
        if let Some(port) = self.gdb {
            return serve_gdb(&mut session, wasm, target, port);
        }
        let first = if self.no_run { "position" } else { "continue" };
        let opening = commands::execute(&mut session, first).map_err(anyhow::Error::msg)?;
        let tui = self.batch.is_none()
            && !self.no_tui
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal();
        if !tui {
            outln!("{opening}");
        }
        let mut failed = false;
        match &self.batch {
            Some(file) => {
                let script = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                for line in script.lines() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if line.is_empty() {
                        continue;
                    }
                    outln!("(capicola) {line}");
                    match commands::execute(&mut session, line) {
                        Ok(text) => outln!("{text}"),
                        Err(message) => {
                            outln!("error: {message}");
                            failed = true;
                        }
                    }
                }
            }
            None if tui => capicola::debug::tui::run(&mut session, &opening)?,
            None => failed = prompt(&mut session)?,
        }
        Ok(if failed {
            Status::Failures
        } else {
            Status::Success
        })
    }
}

/// `--gdb PORT`: waits for one debugger on the port and serves the session until it detaches.
fn serve_gdb(
    session: &mut Session,
    wasm: &[u8],
    target: &Path,
    port: u16,
) -> anyhow::Result<Status> {
    let listener =
        gdb::listen(port).with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let port = listener.local_addr()?.port();
    outln!("gdb server listening on 127.0.0.1:{port}; attach with:");
    outln!("  {}", gdb::lldb_command(port));
    std::io::stdout().flush()?;
    // lldb loads the module from the file the library list names when it can, and reads it from the server
    // otherwise: a text module is named after its binary, which no file holds.
    let path = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let mut name = path.to_string_lossy().into_owned();
    if std::fs::read(&path).ok().as_deref() != Some(wasm) {
        name.push_str(".wasm");
    }
    let reason = gdb::serve(session, wasm, &name, &listener)
        .with_context(|| format!("while debugging {}", target.display()))?;
    outln!(
        "debugger gone ({reason:?}) at position {}",
        session.timeline.position()
    );
    Ok(Status::Success)
}

/// Reads commands from standard input until it ends or `quit`; an empty line repeats the last command.
fn prompt(session: &mut Session) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut last = String::new();
    let mut failed = false;
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            out!("(capicola) ");
            std::io::stdout().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        let command = if line.is_empty() {
            last.clone()
        } else {
            line.to_string()
        };
        if matches!(command.as_str(), "quit" | "q" | "exit") {
            break;
        }
        if command.is_empty() {
            continue;
        }
        match commands::execute(session, &command) {
            Ok(text) => outln!("{text}"),
            Err(message) => {
                outln!("error: {message}");
                failed = true;
            }
        }
        last = command;
    }
    Ok(failed)
}
