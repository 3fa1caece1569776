//! A WASI program: a module importing `wasi_snapshot_preview1` or `wasi_unstable` (preview 0), linked against a WASI context of its own and run as a command (`_start`) or a reactor (`_initialize`, then an export) under fuel budgets, continued after a pause — in the same process or, restored from a snapshot, in another.

use std::path::{Path, PathBuf};

use capicola_engine::wasi::{self, DirMode, Mount, OutputMode, RunStatus, WasiCtx};
use capicola_engine::{Engine, Error, ExternType, Instance, Linker, Module, Snapshot, Store, Trap};

use crate::program::{
    Invocation, ProgramError, Stop, check_imports, export_func, export_type, exported_funcs,
    parse_args, scratch_instance,
};

/// Whether the module imports anything from `wasi_snapshot_preview1` or `wasi_unstable`.
pub fn imports_wasi(module: &Module) -> bool {
    module
        .imports()
        .any(|import| wasi::is_wasi_module(&import.module))
}

/// What a WASI program may import, as an unknown import's error names it.
const WASI_PROVIDED: &str = "the `wasi_snapshot_preview1` and `wasi_unstable` modules are";

/// A host directory preopened for the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory on the host, copied into the sandbox.
    pub host: PathBuf,
    /// The path the guest sees.
    pub guest: String,
    /// What the guest may do with it, and whether its changes are written back.
    pub mode: DirMode,
}

/// How a WASI program's context is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasiOptions {
    /// The arguments, program name (`argv[0]`) first.
    pub args: Vec<String>,
    /// The environment variables, in order.
    pub env: Vec<(String, String)>,
    /// The preopened directories; they get descriptors 3, 4, ... in this order.
    pub preopens: Vec<Preopen>,
    /// `Some(seed)`: the deterministic mode (a virtual clock driven by fuel, random bytes from the seed); `None`:
    /// the host's clocks and randomness. Standard streams are the process's own in both.
    pub seed: Option<u64>,
    /// Largest size in bytes of all files of the sandbox together (`None`: `wasi::DEFAULT_MAX_FS_BYTES`);
    /// writes beyond fail with `ENOSPC`, and a preopened host directory holding more is an error.
    pub max_fs_bytes: Option<u64>,
}

/// A WASI module with its store and context.
#[derive(Debug)]
pub struct WasiProgram {
    module: Module,
    store: Store,
    linker: Linker,
    ctx: WasiCtx,
    /// The instance, once instantiated (or, after a restore, when the call has still to begin).
    instance: Option<Instance>,
    /// The call in progress, once begun.
    invocation: Option<Invocation>,
    /// A trap while instantiating, reported by the next `resume`.
    instantiation_trap: Option<Trap>,
}

impl WasiProgram {
    /// Links `module` against the WASI functions (nothing else is provided) and builds its context, copying the
    /// preopened directories in.
    pub fn new(
        engine: &Engine,
        module: Module,
        options: &WasiOptions,
    ) -> Result<WasiProgram, ProgramError> {
        let mut store = Store::new(engine);
        let mut linker = Linker::new();
        wasi::define(&mut linker, &mut store)?;
        check_imports(&module, &linker, WASI_PROVIDED)?;
        let mut builder = WasiCtx::builder()
            .args(options.args.iter().cloned())
            .inherit_stdin()
            .stdout(OutputMode::Inherit)
            .stderr(OutputMode::Inherit);
        for (key, value) in &options.env {
            builder = builder.env(key, value);
        }
        for preopen in &options.preopens {
            builder = builder.preopen_dir(&preopen.host, &preopen.guest, preopen.mode);
        }
        if let Some(seed) = options.seed {
            builder = builder.deterministic(seed);
        }
        if let Some(bytes) = options.max_fs_bytes {
            builder = builder.max_fs_bytes(bytes);
        }
        let ctx = builder.build()?;
        Ok(WasiProgram {
            module,
            store,
            linker,
            ctx,
            instance: None,
            invocation: None,
            instantiation_trap: None,
        })
    }

    /// Instantiates the module and begins the run. Without `call`, the program runs as a command (`_start`) or
    /// a reactor (`_initialize`). With `call` — an exported function and its arguments as text — the module's
    /// start function and a reactor's `_initialize` run first (a command's `_start` does not), then the function.
    pub fn begin(&mut self, call: Option<(&str, &[String])>) -> Result<(), ProgramError> {
        let parsed = match call {
            Some((name, args)) => Some(parse_args(&self.module, name, args)?),
            None => None,
        };
        let instance = match self.linker.instantiate(&mut self.store, &self.module) {
            Ok(instance) => instance,
            Err(Error::Instantiation(trap)) => {
                self.instantiation_trap = Some(trap);
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        };
        let module = &self.module;
        let exports = |name: &str| {
            module
                .exports()
                .any(|(export, ty)| export == name && matches!(ty, ExternType::Func(_)))
        };
        let invocation = match (call, parsed) {
            (Some((name, args)), Some(parsed)) => {
                let results = export_type(&self.module, name)
                    .map(|ty| ty.results().to_vec())
                    .unwrap_or_default();
                let begun = if exports("_initialize") && !exports("_start") {
                    self.ctx.start(&mut self.store, instance)?;
                    false
                } else if let Some(start) = self.store.instance_start(instance) {
                    self.ctx.invoke(&mut self.store, instance, start, &[])?;
                    false
                } else {
                    let func = export_func(&self.store, &self.module, instance, name)?;
                    self.ctx.invoke(&mut self.store, instance, func, &parsed)?;
                    true
                };
                Invocation {
                    export: name.to_string(),
                    args: args.to_vec(),
                    results,
                    begun,
                }
            }
            _ => {
                let entry = ["_start", "_initialize"]
                    .into_iter()
                    .find(|name| exports(name))
                    .ok_or_else(|| ProgramError::NoFunctionNamed {
                        available: exported_funcs(&self.module),
                    })?;
                self.ctx.start(&mut self.store, instance)?;
                Invocation {
                    export: entry.to_string(),
                    args: Vec::new(),
                    results: Vec::new(),
                    begun: true,
                }
            }
        };
        self.instance = Some(instance);
        self.invocation = Some(invocation);
        Ok(())
    }

    /// Runs on with a budget of `fuel` instructions, answering WASI calls, until the program ends or uses the
    /// budget up (the run then stays paused: `resume` again continues it, [`WasiProgram::capture`] saves it).
    pub fn resume(&mut self, fuel: u64) -> Result<Stop, ProgramError> {
        if let Some(trap) = self.instantiation_trap.take() {
            return Ok(Stop::Trapped(trap));
        }
        let invocation = self.invocation.as_mut().ok_or(ProgramError::NotBegun)?;
        let begin = self.store.fuel_consumed();
        loop {
            let used = self.store.fuel_consumed() - begin;
            let status = self
                .ctx
                .resume(&mut self.store, fuel.saturating_sub(used))?;
            match status {
                RunStatus::OutOfFuel => {
                    return Ok(Stop::OutOfFuel {
                        position: self.store.position(),
                    });
                }
                // Only with `set_stop_at_input`, which is never set here: resuming answers the read.
                RunStatus::InputRead => {}
                RunStatus::Done(outcome) => {
                    if let Some(trap) = outcome.trap {
                        return Ok(Stop::Trapped(trap));
                    }
                    if invocation.begun || outcome.exit_code != 0 {
                        return Ok(Stop::Finished {
                            results: outcome.results,
                            exit_code: outcome.exit_code,
                        });
                    }
                    // The start function or `_initialize` returned: now the call itself.
                    let instance = self.instance.ok_or(ProgramError::NotBegun)?;
                    let func =
                        export_func(&self.store, &self.module, instance, &invocation.export)?;
                    let args = parse_args(&self.module, &invocation.export, &invocation.args)?;
                    self.ctx.invoke(&mut self.store, instance, func, &args)?;
                    invocation.begun = true;
                }
            }
        }
    }

    /// Copies the changes the guest made in `--dir-rw` directories back to the host (all or nothing per
    /// directory).
    pub fn write_back(&self) -> Result<(), ProgramError> {
        Ok(self.ctx.write_back()?)
    }

    /// The preopened directories, in descriptor order.
    pub fn mounts(&self) -> Vec<Mount> {
        self.ctx.mounts()
    }

    /// Chooses where the `--dir-rw` directory the guest sees as `guest` is written back (after a restore).
    pub fn bind_write_back_dir(&mut self, guest: &str, host: &Path) -> Result<(), ProgramError> {
        Ok(self.ctx.bind_write_back_dir(guest, host)?)
    }

    /// Chooses the host directory the preopen the guest sees as `guest` reads what it has not read yet from
    /// (after a restore), once what it read before is checked to be unchanged there.
    pub fn bind_dir(&mut self, guest: &str, host: &Path) -> Result<(), ProgramError> {
        Ok(self.ctx.bind_dir(guest, host)?)
    }

    /// The guest paths of directories that still have host files to read and no host directory to read from.
    pub fn unbound_read_dirs(&self) -> Vec<String> {
        self.ctx.unbound_read_dirs()
    }

    /// Writes the `--dir-rw` directories not bound otherwise back to the host paths recorded in the snapshot.
    pub fn trust_recorded_dirs(&mut self) -> Result<(), ProgramError> {
        Ok(self.ctx.trust_recorded_dirs()?)
    }

    /// The whole store, paused call included, and the encoded WASI context (the invocation is in neither: see
    /// [`WasiProgram::invocation`]).
    pub fn capture(&self) -> Result<(Snapshot, Vec<u8>), ProgramError> {
        let ctx = self.ctx.to_bytes()?;
        Ok((self.store.capture(), ctx))
    }

    /// The call in progress, once begun.
    pub fn invocation(&self) -> Option<&Invocation> {
        self.invocation.as_ref()
    }

    /// Continues a run from a snapshot of its store, its encoded WASI context and its invocation (see
    /// [`WasiProgram::capture`]).
    pub fn restore(
        engine: &Engine,
        module: Module,
        snapshot: &Snapshot,
        ctx: &[u8],
        invocation: Invocation,
    ) -> Result<WasiProgram, ProgramError> {
        let store = Store::restore(engine, snapshot, std::slice::from_ref(&module))?;
        let ctx = WasiCtx::from_bytes(ctx)?;
        // The linker and the handle of the instance come from a scratch store set up as the original was.
        let mut scratch = Store::new(engine);
        let mut linker = Linker::new();
        wasi::define(&mut linker, &mut scratch)?;
        check_imports(&module, &linker, WASI_PROVIDED)?;
        let instance = if invocation.begun {
            None
        } else {
            Some(scratch_instance(&linker, &mut scratch, &module)?)
        };
        Ok(WasiProgram {
            module,
            store,
            linker,
            ctx,
            instance,
            invocation: Some(invocation),
            instantiation_trap: None,
        })
    }

    /// Whether the clocks and randomness are deterministic.
    pub fn is_deterministic(&self) -> bool {
        self.ctx.is_deterministic()
    }

    /// The store, for where the run stands and how much it has executed.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The name the module's name section gives function `func_index`, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.module.func_name(func_index)
    }
}
