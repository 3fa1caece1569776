//! A program: one module with the `spectest` imports linked, run in a store of its own by calling one export under a fuel budget, and continued after a pause — in the same process or, restored from a snapshot, in another.

use capicola_engine::{
    Engine, Error, Extern, ExternType, Func, Halt, HostAnswer, HostCall, Instance, Linker, Module,
    Position, Snapshot, Store, Trap, TrapKind, Val, ValType, spectest,
};
use serde::{Deserialize, Serialize};

use crate::values::{self, ParseValError};

/// Why a program could not be loaded or an export could not be called.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The bytes are neither a binary module nor WebAssembly text.
    #[error("neither a binary module nor WebAssembly text")]
    Parse(#[from] wat::Error),
    /// The engine rejected the module or the call.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The module imports something that is not provided.
    #[error("unknown imports (only {provided} provided): {}", .imports.join(", "))]
    UnknownImports {
        /// The modules whose definitions are provided, as the message names them.
        provided: &'static str,
        /// The imports nobody provides, as `module.name (kind)`.
        imports: Vec<String>,
    },
    /// No exported function has this name.
    #[error("no exported function named `{name}` (exported functions: {available})")]
    NoSuchExport { name: String, available: String },
    /// The number of arguments does not match the function's parameters.
    #[error("`{name}` takes {expected} argument(s) ({params}), {given} given")]
    ArgumentCount {
        name: String,
        expected: usize,
        params: String,
        given: usize,
    },
    /// An argument is not a value of its parameter's type.
    #[error("argument {position}")]
    Argument {
        position: usize,
        source: ParseValError,
    },
    /// No function to call was named, and the module is not a WASI program with an entry point of its own.
    #[error("no function to call was named (exported functions: {available})")]
    NoFunctionNamed { available: String },
    /// The WASI context could not be set up, saved or restored, or the run could not be driven.
    #[error(transparent)]
    Wasi(#[from] capicola_engine::wasi::WasiError),
    /// `resume` was asked of a program whose run has not begun.
    #[error("the run has not begun")]
    NotBegun,
}

/// How a run stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The run is over: the called function's results (none for a WASI command), and the exit code a WASI
    /// program ended with (0 when it returned, and for a `spectest` program).
    Finished { results: Vec<Val>, exit_code: i32 },
    /// The guest trapped.
    Trapped(Trap),
    /// The budget ran out; the run is paused at `position` (`None` before the first instruction of a call).
    OutOfFuel { position: Option<Position> },
}

/// The call a run makes: enough to continue it in another process, where the store comes from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The exported function called: the one the user named, or a WASI program's `_start` (or `_initialize`).
    pub export: String,
    /// Its arguments as the user gave them; they are parsed by the function's parameter types when the call begins.
    pub args: Vec<String>,
    /// Its result types.
    pub results: Vec<ValType>,
    /// Whether the call has begun. Until it has, the module's start function (or a WASI reactor's `_initialize`)
    /// is running, and the call is made when that returns.
    pub begun: bool,
}

/// A validated module whose imports are all provided, ready to run in a store of its own.
#[derive(Debug)]
pub struct Program {
    module: Module,
    store: Store,
    linker: Linker,
    /// The instance, once instantiated (or, after a restore, when the call has still to begin).
    instance: Option<Instance>,
    /// The call in progress, once begun.
    invocation: Option<Invocation>,
    /// A trap while instantiating, reported by the next `resume`.
    instantiation_trap: Option<Trap>,
}

/// Compiles `bytes`, a binary module or WebAssembly text.
pub fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, ProgramError> {
    let binary = wat::parse_bytes(bytes)?;
    Ok(Module::new(engine, &binary)?)
}

impl Program {
    /// Compiles `bytes` (binary or text format) and checks that `spectest` provides every import.
    pub fn load(engine: &Engine, bytes: &[u8]) -> Result<Program, ProgramError> {
        Program::new(engine, compile(engine, bytes)?)
    }

    /// Links a compiled module against `spectest`, checking that it provides every import.
    pub fn new(engine: &Engine, module: Module) -> Result<Program, ProgramError> {
        let mut store = Store::new(engine);
        let mut linker = Linker::new();
        spectest::define(&mut linker, &mut store)?;
        check_imports(&module, &linker, "the `spectest` module is")?;
        Ok(Program {
            module,
            store,
            linker,
            instance: None,
            invocation: None,
            instantiation_trap: None,
        })
    }

    /// Instantiates the module, runs its start function, then calls the exported function
    /// `name` with arguments parsed from text by its parameter types. `fuel`, if given, is
    /// the budget of the whole run; a trap while initializing segments is a trap like any other.
    ///
    /// Calls to the `spectest` print functions are answered with no results.
    pub fn run(
        &mut self,
        name: &str,
        args: &[String],
        fuel: Option<u64>,
    ) -> Result<Stop, ProgramError> {
        self.begin(name, args)?;
        self.resume(fuel.unwrap_or(u64::MAX))
    }

    /// Instantiates the module and begins the run: the start function if there is one, then the exported function
    /// `name` with arguments parsed from text by its parameter types. [`Program::resume`] runs it.
    pub fn begin(&mut self, name: &str, args: &[String]) -> Result<(), ProgramError> {
        let parsed = parse_args(&self.module, name, args)?;
        let results = export_type(&self.module, name)
            .map(|ty| ty.results().to_vec())
            .unwrap_or_default();
        let instance = match self.linker.instantiate(&mut self.store, &self.module) {
            Ok(instance) => instance,
            Err(Error::Instantiation(trap)) => {
                self.instantiation_trap = Some(trap);
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        };
        let begun = match self.store.instance_start(instance) {
            Some(start) => {
                self.store.invoke(start, &[])?;
                false
            }
            None => {
                let func = export_func(&self.store, &self.module, instance, name)?;
                self.store.invoke(func, &parsed)?;
                true
            }
        };
        self.instance = Some(instance);
        self.invocation = Some(Invocation {
            export: name.to_string(),
            args: args.to_vec(),
            results,
            begun,
        });
        Ok(())
    }

    /// Runs on with a budget of `fuel` instructions until the call returns, traps or uses the budget up (the run
    /// then stays paused: `resume` again continues it, [`Program::capture`] saves it).
    pub fn resume(&mut self, fuel: u64) -> Result<Stop, ProgramError> {
        if let Some(trap) = self.instantiation_trap.take() {
            return Ok(Stop::Trapped(trap));
        }
        let invocation = self.invocation.as_mut().ok_or(ProgramError::NotBegun)?;
        let begin = self.store.fuel_consumed();
        loop {
            let left = fuel - (self.store.fuel_consumed() - begin);
            match self.store.drive(left, &mut spectest_answer)? {
                Halt::Finished(results) if invocation.begun => {
                    return Ok(Stop::Finished {
                        results,
                        exit_code: 0,
                    });
                }
                Halt::Finished(_) => {
                    // The start function returned: now the call itself.
                    let instance = self.instance.ok_or(ProgramError::NotBegun)?;
                    let func =
                        export_func(&self.store, &self.module, instance, &invocation.export)?;
                    let args = parse_args(&self.module, &invocation.export, &invocation.args)?;
                    self.store.invoke(func, &args)?;
                    invocation.begun = true;
                }
                Halt::Trapped(trap) => return Ok(Stop::Trapped(trap)),
                Halt::Exited { code, .. } => {
                    return Ok(Stop::Finished {
                        results: Vec::new(),
                        exit_code: code,
                    });
                }
                Halt::OutOfFuel | Halt::Interrupted | Halt::Held(_) => {
                    return Ok(Stop::OutOfFuel {
                        position: self.store.position(),
                    });
                }
            }
        }
    }

    /// The whole store, paused call included (the invocation is not in it: see [`Program::invocation`]).
    pub fn capture(&self) -> Snapshot {
        self.store.capture()
    }

    /// The call in progress, once begun.
    pub fn invocation(&self) -> Option<&Invocation> {
        self.invocation.as_ref()
    }

    /// Continues a run from a snapshot of its store (taken by [`Program::capture`]) and its invocation.
    pub fn restore(
        engine: &Engine,
        module: Module,
        snapshot: &Snapshot,
        invocation: Invocation,
    ) -> Result<Program, ProgramError> {
        let store = Store::restore(engine, snapshot, std::slice::from_ref(&module))?;
        // The linker and the handle of the instance come from a scratch store set up as the original was: the
        // restored store holds the same entities at the same indices.
        let mut scratch = Store::new(engine);
        let mut linker = Linker::new();
        spectest::define(&mut linker, &mut scratch)?;
        check_imports(&module, &linker, "the `spectest` module is")?;
        let instance = if invocation.begun {
            None
        } else {
            Some(scratch_instance(&linker, &mut scratch, &module)?)
        };
        Ok(Program {
            module,
            store,
            linker,
            instance,
            invocation: Some(invocation),
            instantiation_trap: None,
        })
    }

    /// Instructions executed in this program's store so far, across restores.
    pub fn fuel_consumed(&self) -> u64 {
        self.store.fuel_consumed()
    }

    /// The name the module's name section gives function `func_index`, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.module.func_name(func_index)
    }
}

/// Checks that `linker` provides every import of `module`; the error names the ones it does not.
pub(crate) fn check_imports(
    module: &Module,
    linker: &Linker,
    provided: &'static str,
) -> Result<(), ProgramError> {
    let unknown: Vec<String> = module
        .imports()
        .filter(|import| linker.get(&import.module, &import.name).is_none())
        .map(|import| {
            format!(
                "{}.{} ({})",
                import.module,
                import.name,
                import.ty.kind_name()
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ProgramError::UnknownImports {
            provided,
            imports: unknown,
        })
    }
}

/// The handle of `module`'s instance in a store restored from a snapshot, found by instantiating it in `scratch`,
/// a store set up the same way the original was before instantiating (handles are indices, and a restored store
/// keeps every entity at its index).
pub(crate) fn scratch_instance(
    linker: &Linker,
    scratch: &mut Store,
    module: &Module,
) -> Result<Instance, ProgramError> {
    Ok(linker.instantiate(scratch, module)?)
}

/// The type of the exported function `name`, if there is one.
pub(crate) fn export_type(module: &Module, name: &str) -> Option<capicola_engine::FuncType> {
    module.exports().find_map(|(export, ty)| match ty {
        ExternType::Func(ty) if export == name => Some(ty),
        _ => None,
    })
}

/// The exported function `name` of `instance`.
pub(crate) fn export_func(
    store: &Store,
    module: &Module,
    instance: Instance,
    name: &str,
) -> Result<Func, ProgramError> {
    match store.instance_export(instance, name) {
        Some(Extern::Func(func)) => Ok(func),
        _ => Err(no_such_export(module, name)),
    }
}

/// The arguments of the exported function `name`, parsed from text by its parameter types.
pub(crate) fn parse_args(
    module: &Module,
    name: &str,
    args: &[String],
) -> Result<Vec<Val>, ProgramError> {
    let Some(ty) = export_type(module, name) else {
        return Err(no_such_export(module, name));
    };
    let params = ty.params();
    if params.len() != args.len() {
        return Err(ProgramError::ArgumentCount {
            name: name.to_string(),
            expected: params.len(),
            params: params
                .iter()
                .map(|ty| ty.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            given: args.len(),
        });
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (&ty, text))| {
            values::parse_val(text, ty).map_err(|source| ProgramError::Argument {
                position: i + 1,
                source,
            })
        })
        .collect()
}

/// The names of the module's exported functions, or `none`.
pub(crate) fn exported_funcs(module: &Module) -> String {
    let available: Vec<&str> = module
        .exports()
        .filter(|(_, ty)| matches!(ty, ExternType::Func(_)))
        .map(|(name, _)| name)
        .collect();
    if available.is_empty() {
        "none".to_string()
    } else {
        available.join(", ")
    }
}

fn no_such_export(module: &Module, name: &str) -> ProgramError {
    ProgramError::NoSuchExport {
        name: name.to_string(),
        available: exported_funcs(module),
    }
}

/// Answers a host call of a program: the `spectest` print functions return nothing.
pub fn spectest_answer(_store: &mut Store, call: &HostCall) -> HostAnswer {
    if spectest::is_print(call.host_id) {
        HostAnswer::Return(Vec::new())
    } else {
        HostAnswer::Trap(TrapKind::Host(format!(
            "unknown host function {}",
            call.host_id
        )))
    }
}
