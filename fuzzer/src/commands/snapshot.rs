//! `capicola snapshot`: looks into snapshot files.

use std::path::PathBuf;

use anyhow::Context;
use capicola::program::compile;
use capicola::snapshot_file::{describe, read_file};
use capicola_engine::Engine;

use super::Status;

/// Looks into snapshot files written by `capicola run --save-snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotCommand {
    #[command(subcommand)]
    command: SnapshotSubcommand,
}

#[derive(Debug, clap::Subcommand)]
enum SnapshotSubcommand {
    Info(InfoCommand),
}

/// Prints what a snapshot file holds.
///
/// The header (format version, engine version, SHA-256 of each module), the sizes (the file,
/// the compressed and raw body, the bytes of memory described against the non-zero pages
/// stored), whether a call is paused, and the host state (its size, and for a `capicola run`
/// state the kind of program and the function called). With --module, the snapshot is also
/// restored, which checks it all the way, and the paused call's position, frames and
/// instructions executed are printed.
///
/// The file's checksums are verified before anything is decoded: a damaged file is an error
/// naming the damage (the header or the body, a checksum mismatch, where a cut file ends), and
/// a file of an older format version says so.
///
/// Exit codes: 0 printed; 2 the file is unreadable, not a regular file, too large, damaged,
/// of another format version, or --module is not the module it was taken of.
#[derive(Debug, clap::Args)]
struct InfoCommand {
    /// The snapshot file.
    snapshot: PathBuf,
    /// The module the snapshot was taken of, to decode the paused call: binary (.wasm) or text (.wat).
    #[arg(long, value_name = "FILE")]
    module: Option<PathBuf>,
}

impl SnapshotCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        match self.command {
            SnapshotSubcommand::Info(info) => info.execute(),
        }
    }
}

impl InfoCommand {
    fn execute(self) -> anyhow::Result<Status> {
        let snapshot = self.snapshot.display();
        let bytes = read_file(&self.snapshot).with_context(|| format!("cannot read {snapshot}"))?;
        let module = match &self.module {
            Some(path) => {
                let module = path.display();
                let bytes = std::fs::read(path).with_context(|| format!("cannot read {module}"))?;
                Some(
                    compile(&Engine::default(), &bytes)
                        .with_context(|| format!("cannot load {module}"))?,
                )
            }
            None => None,
        };
        let info = describe(&bytes, module.as_ref()).with_context(|| match &self.module {
            Some(module) => format!(
                "cannot read {snapshot} with the module {}",
                module.display()
            ),
            None => format!("cannot read {snapshot}"),
        })?;
        out!("{info}");
        Ok(Status::Success)
    }
}
