//! A run of a program — a `spectest` module or a WASI program — under fuel budgets, saved when it pauses as a snapshot whose host state is the run state, and continued from such a snapshot in another process.
//!
//! The run state travels as the snapshot's host state (`Snapshot::set_host_state`), so the engine's format is
//! unchanged. Its layout (integers little-endian): `magic "CAPIRUN\0"` | `version: u32` | `kind: u8` (0 a
//! `spectest` program, 1 a WASI program) | `invocation length: u32` | `invocation: bincode 2 (serde) encoding of
//! [`Invocation`]` — which export is called, with which arguments, its result types, whether the call has begun
//! — | `the WASI context as WasiCtx::to_bytes encodes it` (WASI programs only, to the end).

use capicola_engine::{DecodeLimits, Engine, Module, Snapshot};
use serde::{Deserialize, Serialize};

use crate::program::{Invocation, Program, ProgramError, Stop, exported_funcs};
use crate::wasi_program::{WasiOptions, WasiProgram, imports_wasi};

/// First bytes of the host state of a snapshot written by a run.
pub const RUN_STATE_MAGIC: [u8; 8] = *b"CAPIRUN\0";
/// Version of the run state format this crate reads and writes.
pub const RUN_STATE_VERSION: u32 = 1;

/// Decoding an invocation allocates at most this much.
const INVOCATION_LIMIT: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<{ 1 << 24 }>,
> = bincode::config::standard().with_limit::<{ 1 << 24 }>();

/// Why a run could not begin, go on, be saved or be restored.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Loading, linking or calling the program failed.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// The snapshot could not be encoded or decoded, or does not fit the module.
    #[error(transparent)]
    Engine(#[from] capicola_engine::Error),
    /// The snapshot was taken of another module.
    #[error(
        "the snapshot was taken of another module: it names module {snapshot}, the module given is {module}"
    )]
    WrongModule { snapshot: String, module: String },
    /// The snapshot's host state is not a run state this crate reads.
    #[error("the snapshot carries no `capicola run` state: {0}")]
    RunState(String),
    /// The snapshot holds no paused call.
    #[error("the snapshot holds no paused call: there is nothing to resume")]
    NotPaused,
    /// The restored run writes back to host directories nobody named on this command line.
    #[error(
        "the snapshot writes back to host directories: {mounts}; give `--dir-rw HOST::GUEST` for each to choose \
         the host directory, or `--trust-snapshot-dirs` to use the recorded one"
    )]
    UnboundDirs { mounts: String },
    /// `--dir-rw` named a guest path that is not one of the snapshot's read-write directories.
    #[error(
        "--dir-rw {guest}: the snapshot has no --dir-rw directory {guest} (it has: {available})"
    )]
    UnknownDir { guest: String, available: String },
    /// WASI settings were given for a module that does not import WASI.
    #[error(
        "the module does not import `wasi_snapshot_preview1` or `wasi_unstable`: environment, directories and the deterministic mode apply to WASI programs only"
    )]
    NotWasi,
}

/// What a run needs beside the store to continue a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// The call the run makes.
    pub invocation: Invocation,
    /// A WASI program's context, encoded by `WasiCtx::to_bytes`; `None` for a `spectest` program.
    pub wasi: Option<Vec<u8>>,
}

impl RunState {
    /// Encodes the run state for `Snapshot::set_host_state`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RunError> {
        let invocation =
            bincode::serde::encode_to_vec(&self.invocation, bincode::config::standard())
                .map_err(|e| RunError::RunState(format!("encoding failed: {e}")))?;
        let invocation_len = u32::try_from(invocation.len())
            .map_err(|_| RunError::RunState("the invocation is over 4 GiB".into()))?;
        let wasi = self.wasi.as_deref();
        let mut bytes = Vec::with_capacity(17 + invocation.len() + wasi.map_or(0, <[u8]>::len));
        bytes.extend_from_slice(&RUN_STATE_MAGIC);
        bytes.extend_from_slice(&RUN_STATE_VERSION.to_le_bytes());
        bytes.push(u8::from(wasi.is_some()));
        bytes.extend_from_slice(&invocation_len.to_le_bytes());
        bytes.extend_from_slice(&invocation);
        bytes.extend_from_slice(wasi.unwrap_or_default());
        Ok(bytes)
    }

    /// Whether `host_state` starts like a run state (it may still be corrupted).
    pub fn is_run_state(host_state: &[u8]) -> bool {
        host_state.starts_with(&RUN_STATE_MAGIC)
    }

    /// Decodes a run state. Malformed bytes give an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<RunState, RunError> {
        let bad = |reason: &str| RunError::RunState(reason.to_string());
        let rest = bytes.strip_prefix(&RUN_STATE_MAGIC).ok_or_else(|| {
            RunError::RunState(format!(
                "its host state ({} bytes) was written by another embedder",
                bytes.len()
            ))
        })?;
        let (version, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("the run state is truncated"))?;
        let version = u32::from_le_bytes(*version);
        if version != RUN_STATE_VERSION {
            return Err(RunError::RunState(format!(
                "run state version {version}, this build reads version {RUN_STATE_VERSION}"
            )));
        }
        let (&kind, rest) = rest
            .split_first()
            .ok_or_else(|| bad("the run state is truncated"))?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("the run state is truncated"))?;
        let len = usize::try_from(u32::from_le_bytes(*len)).unwrap_or(usize::MAX);
        let (invocation, wasi) = rest
            .split_at_checked(len)
            .ok_or_else(|| bad("the run state is truncated"))?;
        let (invocation, used): (Invocation, usize) =
            bincode::serde::decode_from_slice(invocation, INVOCATION_LIMIT)
                .map_err(|e| RunError::RunState(format!("the invocation does not decode: {e}")))?;
        if used != len {
            return Err(bad("trailing bytes after the invocation"));
        }
        let wasi = match kind {
            0 if wasi.is_empty() => None,
            1 => Some(wasi.to_vec()),
            _ => return Err(bad("unknown kind of program")),
        };
        Ok(RunState { invocation, wasi })
    }
}

/// A run of either kind of program.
#[derive(Debug)]
pub enum Run {
    /// A module that imports at most the `spectest` definitions.
    Spectest(Box<Program>),
    /// A module that imports `wasi_snapshot_preview1`.
    Wasi(Box<WasiProgram>),
}

impl Run {
    /// Begins a run of `module`. A module importing WASI runs with the context `wasi` describes: as a command or
    /// reactor with `args` appended to its arguments when `invoke` is `None`, else by calling `invoke` with `args`.
    /// Any other module is linked against `spectest` and `invoke` must name the function to call.
    pub fn begin(
        engine: &Engine,
        module: Module,
        invoke: Option<&str>,
        args: &[String],
        mut wasi: WasiOptions,
    ) -> Result<Run, RunError> {
        if imports_wasi(&module) {
            if invoke.is_none() {
                wasi.args.extend(args.iter().cloned());
            }
            let mut program = WasiProgram::new(engine, module, &wasi)?;
            program.begin(invoke.map(|name| (name, args)))?;
            return Ok(Run::Wasi(Box::new(program)));
        }
        if !wasi.env.is_empty() || !wasi.preopens.is_empty() || wasi.seed.is_some() {
            return Err(RunError::NotWasi);
        }
        let Some(name) = invoke else {
            return Err(ProgramError::NoFunctionNamed {
                available: exported_funcs(&module),
            }
            .into());
        };
        let mut program = Program::new(engine, module)?;
        program.begin(name, args)?;
        Ok(Run::Spectest(Box::new(program)))
    }

    /// Runs on with a budget of `fuel` instructions until the run ends or uses the budget up.
    pub fn resume(&mut self, fuel: u64) -> Result<Stop, RunError> {
        Ok(match self {
            Run::Spectest(program) => program.resume(fuel)?,
            Run::Wasi(program) => program.resume(fuel)?,
        })
    }

    /// After the run ended: copies a WASI program's changes in `--dir-rw` directories back to the host.
    pub fn finish(&self) -> Result<(), RunError> {
        match self {
            Run::Spectest(_) => Ok(()),
            Run::Wasi(program) => Ok(program.write_back()?),
        }
    }

    /// The WASI program whose directories `dirs` name, or `None` when `dirs` is empty and the run is no WASI
    /// program; a module without WASI has no directory to name, so any is an error.
    fn program_with_dirs(
        &mut self,
        dirs: &[(std::path::PathBuf, String)],
    ) -> Result<Option<&mut WasiProgram>, RunError> {
        match (self, dirs.first()) {
            (Run::Wasi(program), _) => Ok(Some(program)),
            (Run::Spectest(_), Some((_, guest))) => Err(RunError::UnknownDir {
                guest: guest.clone(),
                available: "none".into(),
            }),
            (Run::Spectest(_), None) => Ok(None),
        }
    }

    /// Chooses where a restored run reads its host directories from: each `(host, guest)` of `dirs` binds the
    /// directory with that guest path (of any mode) to `host`, once every file and directory the snapshot read
    /// from it is checked to be unchanged there (size, modification time, contents or listing): a change is an
    /// error naming the file.
    pub fn bind_dirs(&mut self, dirs: &[(std::path::PathBuf, String)]) -> Result<(), RunError> {
        let Some(program) = self.program_with_dirs(dirs)? else {
            return Ok(());
        };
        for (host, guest) in dirs {
            program.bind_dir(guest, host)?;
        }
        Ok(())
    }

    /// After [`Run::bind_dirs`] and [`Run::bind_write_back_dirs`]: an error naming the directories that still have
    /// host files to read but no host directory to read them from.
    pub fn check_read_dirs(&self) -> Result<(), RunError> {
        let Run::Wasi(program) = self else {
            return Ok(());
        };
        let unbound = program.unbound_read_dirs();
        if unbound.is_empty() {
            return Ok(());
        }
        Err(RunError::Program(
            capicola_engine::wasi::WasiError::UnboundRead {
                mounts: unbound.join(", "),
            }
            .into(),
        ))
    }

    /// Chooses where a restored run writes its `--dir-rw` directories back: each `(host, guest)` of `dirs` binds
    /// the read-write directory with that guest path to `host`; with `trust`, the others go to the host paths
    /// the snapshot recorded. Any read-write directory left without a host directory is an error naming it, so
    /// that bytes in a file never choose where this process writes.
    pub fn bind_write_back_dirs(
        &mut self,
        dirs: &[(std::path::PathBuf, String)],
        trust: bool,
    ) -> Result<(), RunError> {
        let Some(program) = self.program_with_dirs(dirs)? else {
            return Ok(());
        };
        let rw: Vec<_> = program
            .mounts()
            .into_iter()
            .filter(|m| m.mode == capicola_engine::wasi::DirMode::ReadWrite)
            .collect();
        for (host, guest) in dirs {
            if let Err(error) = program.bind_write_back_dir(guest, host) {
                if rw.iter().any(|m| same_guest(&m.guest, guest)) {
                    return Err(error.into());
                }
                return Err(RunError::UnknownDir {
                    guest: guest.clone(),
                    available: if rw.is_empty() {
                        "none".into()
                    } else {
                        rw.iter()
                            .map(|m| m.guest.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
        }
        if trust {
            program.trust_recorded_dirs()?;
        }
        let unbound: Vec<String> = program
            .mounts()
            .into_iter()
            .filter(|m| {
                m.mode == capicola_engine::wasi::DirMode::ReadWrite && m.write_back_to.is_none()
            })
            .map(|m| match &m.recorded_host {
                Some(host) => format!("{} (recorded host directory {})", m.guest, host.display()),
                None => m.guest.clone(),
            })
            .collect();
        if !unbound.is_empty() {
            return Err(RunError::UnboundDirs {
                mounts: unbound.join(", "),
            });
        }
        Ok(())
    }

    /// Whether the run has `--dir-rw` directories, written back when it ends.
    pub fn writes_back(&self) -> bool {
        match self {
            Run::Spectest(_) => false,
            Run::Wasi(program) => program
                .mounts()
                .iter()
                .any(|m| m.mode == capicola_engine::wasi::DirMode::ReadWrite),
        }
    }

    /// The options that give `resume` the run's host directories again (`--dir HOST::GUEST`, `--dir-rw` for
    /// read-write ones), as the run recorded them.
    pub fn host_dir_options(&self) -> Vec<(&'static str, String)> {
        let Run::Wasi(program) = self else {
            return Vec::new();
        };
        program
            .mounts()
            .into_iter()
            .filter_map(|m| {
                let host = m.recorded_host?;
                let flag = if m.mode == capicola_engine::wasi::DirMode::ReadWrite {
                    "--dir-rw"
                } else {
                    "--dir"
                };
                Some((flag, format!("{}::{}", host.display(), m.guest)))
            })
            .collect()
    }

    /// Whether the program is a WASI program.
    pub fn is_wasi(&self) -> bool {
        matches!(self, Run::Wasi(_))
    }

    /// Instructions executed so far, across restores.
    pub fn fuel_consumed(&self) -> u64 {
        match self {
            Run::Spectest(program) => program.fuel_consumed(),
            Run::Wasi(program) => program.store().fuel_consumed(),
        }
    }

    /// The name the module's name section gives function `func_index`, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        match self {
            Run::Spectest(program) => program.func_name(func_index),
            Run::Wasi(program) => program.func_name(func_index),
        }
    }

    /// The paused run as the bytes of a snapshot file: the store, with the run state as its host state.
    pub fn save(&self) -> Result<Vec<u8>, RunError> {
        let (mut snapshot, invocation, wasi) = match self {
            Run::Spectest(program) => (program.capture(), program.invocation(), None),
            Run::Wasi(program) => {
                let (snapshot, ctx) = program.capture()?;
                (snapshot, program.invocation(), Some(ctx))
            }
        };
        let invocation = invocation.ok_or(ProgramError::NotBegun)?.clone();
        snapshot.set_host_state(RunState { invocation, wasi }.to_bytes()?);
        Ok(snapshot.to_bytes()?)
    }

    /// Continues a run saved by [`Run::save`] (the bytes of a snapshot file) with the module it was taken of.
    pub fn restore(engine: &Engine, module: Module, bytes: &[u8]) -> Result<Run, RunError> {
        let snapshot = Snapshot::from_bytes(bytes, &DecodeLimits::default())?;
        check_module(&snapshot, &module)?;
        let state = RunState::from_bytes(snapshot.host_state())?;
        if !snapshot.is_running() {
            return Err(RunError::NotPaused);
        }
        Ok(match state.wasi {
            None => Run::Spectest(Box::new(Program::restore(
                engine,
                module,
                &snapshot,
                state.invocation,
            )?)),
            Some(ctx) => Run::Wasi(Box::new(WasiProgram::restore(
                engine,
                module,
                &snapshot,
                &ctx,
                state.invocation,
            )?)),
        })
    }
}

/// Whether two guest paths name the same directory (`/d`, `/d/` and `//d` do).
fn same_guest(a: &str, b: &str) -> bool {
    let parts = |p: &str| {
        p.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    parts(a) == parts(b)
}

/// Checks that `snapshot` was taken of `module` (among others).
pub(crate) fn check_module(snapshot: &Snapshot, module: &Module) -> Result<(), RunError> {
    let hash = module.hash();
    if snapshot.module_hashes().contains(&hash) {
        return Ok(());
    }
    Err(RunError::WrongModule {
        snapshot: snapshot
            .module_hashes()
            .iter()
            .map(hex)
            .collect::<Vec<_>>()
            .join(", "),
        module: hex(&hash),
    })
}

/// A SHA-256 hash as `sha256:` and 64 hex digits.
pub fn hex(hash: &[u8; 32]) -> String {
    let digits: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use capicola_engine::ValType;

    fn state(wasi: Option<Vec<u8>>) -> RunState {
        RunState {
            invocation: Invocation {
                export: "checksum".to_string(),
                args: vec!["20000".to_string(), "-1.5".to_string()],
                results: vec![ValType::I64, ValType::V128],
                begun: false,
            },
            wasi,
        }
    }

    #[test]
    fn run_states_round_trip_through_bytes() {
        for wasi in [None, Some(vec![1, 2, 3, 0, 255])] {
            let original = state(wasi);
            let bytes = original.to_bytes().expect("encodes");
            assert!(RunState::is_run_state(&bytes));
            assert_eq!(RunState::from_bytes(&bytes).expect("decodes"), original);
        }
    }

    #[test]
    fn damaged_run_states_are_errors() {
        let bytes = state(None).to_bytes().expect("encodes");
        for len in 0..bytes.len() {
            assert!(
                RunState::from_bytes(&bytes[..len]).is_err(),
                "truncation at {len} accepted"
            );
        }
        let mut other_version = bytes.clone();
        other_version[8] = 9;
        let error = RunState::from_bytes(&other_version).expect_err("another version");
        assert!(error.to_string().contains("version 9"), "{error}");
        let mut other_kind = bytes.clone();
        other_kind[12] = 7;
        assert!(RunState::from_bytes(&other_kind).is_err());
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                // Any answer but a panic.
                let _ = RunState::from_bytes(&flipped);
            }
        }
        let foreign = RunState::from_bytes(b"someone else's state").expect_err("foreign");
        assert!(
            foreign.to_string().contains("another embedder"),
            "{foreign}"
        );
    }
}
