//! A program: one module instantiated in its own store, with the `spectest` imports linked, whose exports can be invoked under a fuel budget.

use capicola_engine::{
    Engine, Error, Extern, ExternType, Func, HostCall, Instance, Linker, Module, Outcome, Position,
    Store, Trap, TrapKind, Val, spectest,
};

use crate::values::{self, ParseValError};

/// Why a program could not be loaded or an export could not be called.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The bytes are neither a binary module nor WebAssembly text.
    #[error("not a WebAssembly module: {0}")]
    Parse(#[from] wat::Error),
    /// The engine rejected the module or the call.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The module imports something that is not provided.
    #[error("unknown imports (only the `spectest` module is provided): {}", .0.join(", "))]
    UnknownImports(Vec<String>),
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
    #[error("argument {position}: {source}")]
    Argument {
        position: usize,
        source: ParseValError,
    },
}

/// How a run ended. A trap is an outcome of the guest code, not an error.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The function returned these results.
    Finished(Vec<Val>),
    /// The guest trapped.
    Trapped(Trap),
    /// The budget ran out; the run is paused at `position`.
    OutOfFuel {
        /// The whole budget the run was given.
        budget: u64,
        /// Where the run stopped.
        position: Option<Position>,
    },
}

/// A fuel budget and what is left of it.
#[derive(Debug, Clone, Copy)]
struct Fuel {
    budget: u64,
    left: u64,
}

impl Fuel {
    /// No budget means as much as a `u64` counts.
    fn new(budget: Option<u64>) -> Fuel {
        let budget = budget.unwrap_or(u64::MAX);
        Fuel {
            budget,
            left: budget,
        }
    }
}

/// A module instantiated in its own store.
#[derive(Debug)]
pub struct Program {
    module: Module,
    store: Store,
    instance: Instance,
}

impl Program {
    /// Compiles `bytes` (binary or text format) and instantiates it with the `spectest` imports.
    ///
    /// The start function, if any, runs in [`Program::call_export`].
    pub fn load(engine: &Engine, bytes: &[u8]) -> Result<Program, ProgramError> {
        let binary = wat::parse_bytes(bytes)?;
        let module = Module::new(engine, &binary)?;
        let mut store = Store::new(engine);
        let mut linker = Linker::new();
        spectest::define(&mut linker, &mut store)?;
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
        if !unknown.is_empty() {
            return Err(ProgramError::UnknownImports(unknown));
        }
        let instance = linker.instantiate(&mut store, &module)?;
        Ok(Program {
            module,
            store,
            instance,
        })
    }

    /// Calls the exported function `name` with arguments parsed from text, running the start
    /// function first; `fuel`, if given, is the budget of both together.
    ///
    /// Calls to the `spectest` print functions are answered with no results.
    pub fn call_export(
        &mut self,
        name: &str,
        args: &[String],
        fuel: Option<u64>,
    ) -> Result<RunOutcome, ProgramError> {
        let (func, args) = self.prepare_call(name, args)?;
        let mut fuel = Fuel::new(fuel);
        if let Some(start) = self.store.instance_start(self.instance) {
            match self.run(start, &[], &mut fuel)? {
                RunOutcome::Finished(_) => {}
                stopped => return Ok(stopped),
            }
        }
        self.run(func, &args, &mut fuel)
    }

    /// The exported function `name` and its arguments parsed from text by its parameter types.
    fn prepare_call(&self, name: &str, args: &[String]) -> Result<(Func, Vec<Val>), ProgramError> {
        let func = match self.store.instance_export(self.instance, name) {
            Some(Extern::Func(func)) => func,
            _ => {
                let available: Vec<&str> = self
                    .module
                    .exports()
                    .filter(|(_, ty)| matches!(ty, ExternType::Func(_)))
                    .map(|(name, _)| name)
                    .collect();
                return Err(ProgramError::NoSuchExport {
                    name: name.to_string(),
                    available: if available.is_empty() {
                        "none".to_string()
                    } else {
                        available.join(", ")
                    },
                });
            }
        };
        let params = self.store.func_type(func).params();
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
        let vals = params
            .iter()
            .zip(args)
            .enumerate()
            .map(|(i, (&ty, text))| {
                values::parse_val(text, ty).map_err(|source| ProgramError::Argument {
                    position: i + 1,
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((func, vals))
    }

    /// Runs `func` until it finishes, traps or uses up `fuel`.
    fn run(
        &mut self,
        func: Func,
        args: &[Val],
        fuel: &mut Fuel,
    ) -> Result<RunOutcome, ProgramError> {
        self.store.invoke(func, args)?;
        loop {
            let before = self.store.fuel_consumed();
            let outcome = self.store.run(fuel.left);
            fuel.left = fuel
                .left
                .saturating_sub(self.store.fuel_consumed() - before);
            match outcome {
                Outcome::Finished(results) => return Ok(RunOutcome::Finished(results)),
                Outcome::Trapped(trap) => return Ok(RunOutcome::Trapped(trap)),
                Outcome::OutOfFuel => {
                    return Ok(RunOutcome::OutOfFuel {
                        budget: fuel.budget,
                        position: self.store.position(),
                    });
                }
                Outcome::HostCall(call) => match answer_host_call(&call) {
                    Ok(results) => self.store.host_return(&results)?,
                    Err(trap) => {
                        return Ok(RunOutcome::Trapped(abort_host_call(&mut self.store, trap)));
                    }
                },
            }
        }
    }

    /// The name the module's name section gives function `func_index`, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.module.func_name(func_index)
    }
}

/// Ends the call waiting in `store` for a host function with `trap`, which gets the call's backtrace.
pub fn abort_host_call(store: &mut Store, mut trap: Trap) -> Trap {
    if let Outcome::Trapped(aborted) = store.host_trap(trap.kind.clone()) {
        trap.backtrace = aborted.backtrace;
    }
    trap
}

/// Answers a host call of a program: the `spectest` print functions return nothing.
pub fn answer_host_call(call: &HostCall) -> Result<Vec<Val>, Trap> {
    if spectest::is_print(call.host_id) {
        Ok(Vec::new())
    } else {
        Err(Trap::new(TrapKind::Host(format!(
            "unknown host function {}",
            call.host_id
        ))))
    }
}
