//! `capicola resume`: continues a run that `capicola run --save-snapshot` paused, in a new process.

use std::path::PathBuf;

use anyhow::Context;
use capicola::program::compile;
use capicola::run::Run;
use capicola::snapshot_file::read_file;
use capicola_engine::Engine;

use super::Status;
use super::common::{LimitArgs, LimitDefaults, conclude, parse_dir};

/// Continues a run paused and saved by `capicola run --fuel N --save-snapshot S`.
///
/// SNAPSHOT is the saved run: the store with its paused call, the WASI program's state (files
/// of the sandbox included) and which function was called. --module names the module it was
/// taken of, which must be the very same module (its SHA-256 is checked). The run goes on and
/// prints what the uninterrupted run prints from the pause on: the typed results of the
/// function, or the WASI program's output, and exits as that run would (see `capicola run`
/// for the exit codes). A WASI program keeps its deterministic or host-like clocks, its
/// environment and its arguments; it reads this process's stdin, and its --dir-rw directories
/// are written back when it ends.
///
/// Where they are written back comes from this command line, never from the snapshot file:
/// give --dir-rw HOST::GUEST again for each of them (GUEST as the original run named it), or
/// --trust-snapshot-dirs to write back to the absolute host paths recorded when the run began
/// (`capicola snapshot info` shows them). Without either, a snapshot with --dir-rw directories
/// is not resumed.
///
/// Host directories are read lazily: a file when the program first opens it, a directory when it
/// first looks into it, and the snapshot records what each was (size, modification time, a hash
/// of the contents or of the listing). What the run has not read yet is read from the directory
/// this command line names: --dir HOST::GUEST for each (--dir-rw HOST::GUEST also reads from
/// HOST), or --trust-snapshot-dirs for the recorded paths; every file and directory the snapshot
/// read from it must be unchanged there, or the run is not resumed (the error names the file). A
/// directory with nothing left to read needs neither; one with something left to read and no
/// host directory is not resumed.
///
/// With --fuel N it may pause again after N more instructions, and --save-snapshot S2 saves it
/// again (S2 may be SNAPSHOT itself: the file is replaced atomically).
///
/// Exit codes: as `capicola run`; 2 also when SNAPSHOT is unreadable, corrupted, holds no
/// paused run, or was taken of another module.
#[derive(Debug, clap::Args)]
pub struct ResumeCommand {
    /// The snapshot file written by --save-snapshot.
    snapshot: PathBuf,
    /// The module the snapshot was taken of: binary (.wasm) or text (.wat).
    #[arg(long, value_name = "FILE")]
    module: PathBuf,
    /// Fuel budget for this part of the run: the most instructions it may execute.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// When the fuel runs out, save the paused run to this file (written atomically) and exit with 200.
    #[arg(long, value_name = "S2", requires = "fuel")]
    save_snapshot: Option<PathBuf>,
    /// Read what the run's directory GUEST (of --dir, --dir-ro or --dir-rw) has not read yet from the host
    /// directory HOST, once what the snapshot read from it is checked to be unchanged there.
    #[arg(long, value_name = "HOST::GUEST", value_parser = parse_dir)]
    dir: Vec<(PathBuf, String)>,
    /// Write the run's --dir-rw directory GUEST back to the host directory HOST (and read from it).
    #[arg(long, value_name = "HOST::GUEST", value_parser = parse_dir)]
    dir_rw: Vec<(PathBuf, String)>,
    /// Write the --dir-rw directories not given with --dir-rw back to, and read the directories not given with
    /// --dir or --dir-rw from, the host paths the snapshot records.
    #[arg(long)]
    trust_snapshot_dirs: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

impl ResumeCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let (snapshot, module) = (self.snapshot.display(), self.module.display());
        let bytes = std::fs::read(&self.module).with_context(|| format!("cannot read {module}"))?;
        if self.limits.fs_bytes().is_some() {
            anyhow::bail!("--max-fs-bytes: a resumed run keeps the filesystem limit it began with");
        }
        let engine = Engine::new(self.limits.config(LimitDefaults::Run));
        let compiled = compile(&engine, &bytes).with_context(|| format!("cannot load {module}"))?;
        let saved = read_file(&self.snapshot).with_context(|| format!("cannot read {snapshot}"))?;
        let mut run = Run::restore(&engine, compiled, &saved)
            .with_context(|| format!("cannot resume {snapshot} with the module {module}"))?;
        run.bind_dirs(&self.dir)
            .and_then(|()| run.bind_write_back_dirs(&self.dir_rw, self.trust_snapshot_dirs))
            .and_then(|()| run.check_read_dirs())
            .with_context(|| format!("cannot resume {snapshot}"))?;
        let fuel = self.fuel.unwrap_or(u64::MAX);
        let before = run.fuel_consumed();
        let stop = run
            .resume(fuel)
            .with_context(|| format!("cannot run {module}"))?;
        conclude(
            &run,
            stop,
            fuel,
            before,
            self.save_snapshot.as_deref(),
            &self.module,
        )
    }
}
