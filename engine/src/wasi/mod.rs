//! WASI preview 1 (`wasi_snapshot_preview1`) and preview 0 (`wasi_unstable`): all 46 functions (45 in preview 0) answered from a [`WasiCtx`] whose whole state — descriptors, an in-memory filesystem, clocks, randomness, captured output — is plain data that travels in a snapshot.
//!
//! How it fits the engine: [`define`] gives each function of each ABI a host id ([`WasiFunc::decode`] tells
//! function and ABI from it, [`Abi`] what preview 0 lays out differently); a run stops with
//! `Outcome::HostCall` when the guest calls one, and [`WasiCtx::handle`] answers it by reading and writing guest
//! memory. [`WasiCtx::start`] and [`WasiCtx::resume`] (or [`run_command`]) do that loop for a whole command.
//!
//! ```no_run
//! use capicola_engine::wasi::{self, WasiCtx};
//! use capicola_engine::{Engine, Linker, Module, Store};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::default();
//! let module = Module::new(&engine, &std::fs::read("prog.wasm")?)?;
//! let mut store = Store::new(&engine);
//! let mut linker = Linker::new();
//! wasi::define(&mut linker, &mut store)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let mut ctx = WasiCtx::builder().arg("prog").deterministic(7).build()?;
//! let outcome = wasi::run_command(&mut store, instance, &mut ctx)?;
//! print!("{}", String::from_utf8_lossy(ctx.stdout()));
//! std::process::exit(outcome.exit_code);
//! # }
//! ```
//!
//! The table of functions and their behaviour is in `engine/src/wasi/README.md`.

mod abi;
mod calls;
mod ctx;
mod mem;
mod run;
mod serde_bytes;
mod vfs;
mod writeback;

pub use abi::{Abi, HOST_ID_BASE, HOST_ID_BASE_PREVIEW0, WasiFunc};
pub use ctx::{DEFAULT_MAX_FS_BYTES, DirMode, Mount, OutputMode, WasiCtx, WasiCtxBuilder};
pub use run::{CommandOutcome, RunStatus, TRAP_EXIT_CODE, run_command};

use crate::{Error, Extern, FuncType, Linker, Store};

/// Whether a host call with this id is a WASI function (of either ABI).
pub fn is_wasi(host_id: u32) -> bool {
    WasiFunc::decode(host_id).is_some()
}

/// Whether imports from a module of this name are WASI's.
pub fn is_wasi_module(name: &str) -> bool {
    Abi::ALL.iter().any(|abi| abi.module() == name)
}

/// Defines the 46 `wasi_snapshot_preview1` functions and the 45 `wasi_unstable` ones in `linker` as host
/// functions of `store`.
pub fn define(linker: &mut Linker, store: &mut Store) -> Result<(), Error> {
    for abi in Abi::ALL {
        for f in abi.funcs() {
            let ty = FuncType::new(f.params(), f.results());
            let func = store.new_host_func(ty, f.host_id_in(abi));
            linker.define(abi.module(), f.name(), Extern::Func(func));
        }
    }
    Ok(())
}

/// What can go wrong setting up or driving a WASI program (guest misbehaviour is an errno or a trap, not this).
#[derive(Debug, thiserror::Error)]
pub enum WasiError {
    /// A host directory could not be opened, read or written back.
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A write-back was refused before anything was written: a name the host cannot hold or that would leave
    /// the directory, a symlink leading out of it, a path nesting too deep.
    #[error("cannot write back to {host}: {reason}; nothing was written")]
    WriteBack {
        host: std::path::PathBuf,
        reason: String,
    },
    /// Read-write preopens restored from saved state have no host directory to write back to yet.
    #[error(
        "no host directory was given for the --dir-rw preopens {mounts}: give `--dir-rw HOST::GUEST` for each \
         (or `--trust-snapshot-dirs` to write back to the host paths the snapshot records)"
    )]
    Unbound { mounts: String },
    /// A host file or directory that a restored state read is no longer what it was.
    #[error("the host file or directory {path} changed since the snapshot read it: {why}")]
    HostChanged {
        path: std::path::PathBuf,
        why: String,
    },
    /// Host-backed preopens restored from saved state still have files to read but no host directory to read
    /// them from.
    #[error(
        "the directories {mounts} still have host files to read, but no host directory was given for them: give \
         `--dir HOST::GUEST` for each (or `--trust-snapshot-dirs` to read from the host paths the snapshot records)"
    )]
    UnboundRead { mounts: String },
    /// A guest path given by the embedder does not lie in any preopened directory, or cannot be used.
    #[error("guest path {path}: {reason}")]
    GuestPath { path: String, reason: String },
    /// The module exports no memory named `memory`.
    #[error("the module exports no memory named `memory`")]
    NoMemory,
    /// The module exports neither `_start` nor `_initialize`.
    #[error("the module exports neither `_start` (command) nor `_initialize` (reactor)")]
    NoEntry,
    /// The guest called a host function that is not part of WASI.
    #[error("the guest called host function {0:#x}, which is not a WASI function")]
    UnknownHostCall(u32),
    /// The engine refused a call.
    #[error(transparent)]
    Engine(#[from] Error),
    /// Serialized WASI state could not be encoded or decoded.
    #[error("WASI state: {0}")]
    State(String),
}
