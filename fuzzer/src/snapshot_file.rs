//! Snapshot files as the command line describes them — header, sizes, paused call, host state — for `capicola snapshot info`.

use std::fmt;
use std::path::Path;

use capicola_engine::wasi::{DirMode, WasiCtx};
use capicola_engine::{
    DecodeLimits, FrameInfo, Module, SNAPSHOT_PAGE, Snapshot, SnapshotHeader, Store,
};

use crate::files::read_bounded;
use crate::run::{RUN_STATE_VERSION, RunError, RunState, check_module, hex};

/// What `capicola snapshot info` tells about a snapshot file.
#[derive(Debug)]
pub struct SnapshotInfo {
    /// Size of the whole file.
    pub file_bytes: u64,
    pub header: SnapshotHeader,
    /// Bytes of linear memory the snapshot describes, zero pages included.
    pub memory_bytes: u64,
    /// Bytes of memory pages actually stored (non-zero pages).
    pub stored_page_bytes: u64,
    /// Whether a call is in progress.
    pub running: bool,
    pub host_state: HostState,
    /// The paused call, decoded with the module (when one was given).
    pub call: Option<CallInfo>,
}

/// The snapshot's host state, as far as this crate understands it.
#[derive(Debug)]
pub enum HostState {
    /// None was attached.
    Empty,
    /// A run state written by `capicola run` or `capicola resume`.
    Run { bytes: usize, state: RunState },
    /// Something that starts like a run state but does not decode.
    Corrupt { bytes: usize, reason: String },
    /// Another embedder's state.
    Foreign { bytes: usize },
}

/// Where the paused call stands, decoded by restoring the snapshot with its module.
#[derive(Debug)]
pub struct CallInfo {
    /// The Wasm call stack, innermost frame first, with the functions' names.
    pub frames: Vec<(FrameInfo, Option<String>)>,
    /// Instructions executed in the store, across restores.
    pub fuel_consumed: u64,
}

/// Reads a snapshot file no longer than the default [`DecodeLimits`] allow (see [`read_bounded`]): a device, a pipe
/// or a longer file is an error before anything is read.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    read_bounded(path, DecodeLimits::default().max_file_bytes())
}

/// Reads and checks a snapshot file's bytes: its checksums first, so that a damaged file is an error naming the
/// damage before anything is decoded. With `module` (the module the snapshot was taken of), the snapshot is
/// also restored, which checks every index and stack height and tells where the paused call stands. Corrupted
/// bytes give an error, never a panic.
pub fn describe(bytes: &[u8], module: Option<&Module>) -> Result<SnapshotInfo, RunError> {
    let limits = DecodeLimits::default();
    let (header, _) = Snapshot::read_header(bytes, &limits)?;
    let snapshot = Snapshot::from_bytes(bytes, &limits)?;
    let host = snapshot.host_state();
    let host_state = if host.is_empty() {
        HostState::Empty
    } else if RunState::is_run_state(host) {
        match RunState::from_bytes(host) {
            Ok(state) => HostState::Run {
                bytes: host.len(),
                state,
            },
            Err(error) => HostState::Corrupt {
                bytes: host.len(),
                reason: error.to_string(),
            },
        }
    } else {
        HostState::Foreign { bytes: host.len() }
    };
    let call = match module {
        Some(module) => Some(call_info(&snapshot, module)?),
        None => None,
    };
    Ok(SnapshotInfo {
        file_bytes: bytes.len() as u64,
        header,
        memory_bytes: snapshot.memory_bytes(),
        stored_page_bytes: snapshot.stored_page_bytes(),
        running: snapshot.is_running(),
        host_state,
        call,
    })
}

/// Restores the snapshot with `module` to read its call stack.
fn call_info(snapshot: &Snapshot, module: &Module) -> Result<CallInfo, RunError> {
    check_module(snapshot, module)?;
    let store = Store::restore(module.engine(), snapshot, std::slice::from_ref(module))?;
    let frames = store
        .backtrace()
        .into_iter()
        .map(|frame| {
            let name = module.func_name(frame.func_index).map(str::to_string);
            (frame, name)
        })
        .collect();
    Ok(CallInfo {
        frames,
        fuel_consumed: store.fuel_consumed(),
    })
}

impl fmt::Display for SnapshotInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.header;
        writeln!(f, "file: {} bytes", self.file_bytes)?;
        writeln!(f, "format version: {}", h.format_version)?;
        writeln!(f, "engine version: {}", h.engine_version)?;
        writeln!(f, "modules: {}", h.modules.len())?;
        for (i, module) in h.modules.iter().enumerate() {
            writeln!(f, "  {i}: {}", hex(module))?;
        }
        writeln!(
            f,
            "body: {} bytes compressed, {} bytes raw",
            h.compressed_len, h.raw_len
        )?;
        let page = SNAPSHOT_PAGE as u64;
        writeln!(
            f,
            "memory: {} bytes described, {} bytes stored ({} of {} pages of {page} bytes)",
            self.memory_bytes,
            self.stored_page_bytes,
            self.stored_page_bytes / page,
            self.memory_bytes.div_ceil(page),
        )?;
        writeln!(f, "call: {}", if self.running { "paused" } else { "none" })?;
        match &self.call {
            Some(call) => {
                match call.frames.first() {
                    Some((frame, name)) => {
                        writeln!(f, "position: {}", frame_text(frame, name.as_deref()))?
                    }
                    None if self.running => writeln!(f, "position: before the first instruction")?,
                    None => {}
                }
                writeln!(f, "frames: {}", call.frames.len())?;
                for (depth, (frame, name)) in call.frames.iter().enumerate() {
                    writeln!(f, "  {depth}: {}", frame_text(frame, name.as_deref()))?;
                }
                writeln!(f, "instructions executed: {}", call.fuel_consumed)?;
            }
            None if self.running => writeln!(
                f,
                "position: unknown (give --module FILE to decode the call stack)"
            )?,
            None => {}
        }
        match &self.host_state {
            HostState::Empty => writeln!(f, "host state: none")?,
            HostState::Foreign { bytes } => writeln!(
                f,
                "host state: {bytes} bytes, not written by `capicola run`"
            )?,
            HostState::Corrupt { bytes, reason } => writeln!(
                f,
                "host state: {bytes} bytes, corrupted run state: {reason}"
            )?,
            HostState::Run { bytes, state } => {
                let kind = match &state.wasi {
                    Some(ctx) => format!("a WASI program (context {} bytes)", ctx.len()),
                    None => "a spectest program".to_string(),
                };
                writeln!(
                    f,
                    "host state: {bytes} bytes, run state version {RUN_STATE_VERSION} of {kind}"
                )?;
                if let Some(ctx) = &state.wasi {
                    write_mounts(f, ctx)?;
                }
                let inv = &state.invocation;
                let results = if inv.results.is_empty() {
                    "none".to_string()
                } else {
                    inv.results
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let args = if inv.args.is_empty() {
                    String::new()
                } else {
                    format!(" with arguments {}", inv.args.join(" "))
                };
                let stage = if inv.begun {
                    ""
                } else {
                    " (not called yet: the start function or `_initialize` runs first)"
                };
                writeln!(
                    f,
                    "invocation: `{}`{args}{stage}; results: {results}",
                    inv.export
                )?;
            }
        }
        Ok(())
    }
}

/// The WASI program's preopened directories: guest path, mode, and the host path recorded when the run began.
fn write_mounts(f: &mut fmt::Formatter<'_>, ctx: &[u8]) -> fmt::Result {
    let mounts = match WasiCtx::from_bytes(ctx) {
        Ok(ctx) => ctx.mounts(),
        Err(error) => return writeln!(f, "directories: unknown ({error})"),
    };
    writeln!(f, "directories: {}", mounts.len())?;
    for m in mounts {
        let mode = match m.mode {
            DirMode::ReadOnly => "read-only (--dir-ro)",
            DirMode::Sandboxed => "sandboxed (--dir)",
            DirMode::ReadWrite => "read-write, written back (--dir-rw)",
        };
        let host = m.recorded_host.map_or_else(
            || "no host directory".to_string(),
            |h| format!("recorded host directory {}", h.display()),
        );
        writeln!(f, "  {}: {mode}; {host}", m.guest)?;
    }
    Ok(())
}

/// `func 3 (name) at offset 0x4a`.
pub fn frame_text(frame: &FrameInfo, name: Option<&str>) -> String {
    let name = name.map(|name| format!(" ({name})")).unwrap_or_default();
    format!(
        "func {}{name} at offset {:#x}",
        frame.func_index, frame.offset
    )
}
