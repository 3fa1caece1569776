//! A program: one module with the `spectest` imports linked, run in a store of its own by calling one export under a fuel budget.

use capicola_engine::{
    Engine, Error, Extern, ExternType, Func, HostCall, Linker, Module, Outcome, Position, Store,
    Trap, TrapKind, Val, spectest,
};

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
    #[error("argument {position}")]
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

/// A validated module whose imports are all provided, ready to run in a store of its own.
#[derive(Debug)]
pub struct Program {
    module: Module,
    store: Store,
    linker: Linker,
}

impl Program {
    /// Compiles `bytes` (binary or text format) and checks that `spectest` provides every import.
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
        Ok(Program {
            module,
            store,
            linker,
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
    ) -> Result<RunOutcome, ProgramError> {
        let args = self.parse_args(name, args)?;
        let instance = match self.linker.instantiate(&mut self.store, &self.module) {
            Ok(instance) => instance,
            Err(Error::Instantiation(trap)) => return Ok(RunOutcome::Trapped(trap)),
            Err(error) => return Err(error.into()),
        };
        let mut fuel = Fuel::new(fuel);
        if let Some(start) = self.store.instance_start(instance) {
            match self.run_func(start, &[], &mut fuel)? {
                RunOutcome::Finished(_) => {}
                stopped => return Ok(stopped),
            }
        }
        let Some(Extern::Func(func)) = self.store.instance_export(instance, name) else {
            return Err(self.no_such_export(name));
        };
        self.run_func(func, &args, &mut fuel)
    }

    /// The arguments of the exported function `name`, parsed from text by its parameter types.
    fn parse_args(&self, name: &str, args: &[String]) -> Result<Vec<Val>, ProgramError> {
        let ty = self.module.exports().find_map(|(export, ty)| match ty {
            ExternType::Func(ty) if export == name => Some(ty),
            _ => None,
        });
        let Some(ty) = ty else {
            return Err(self.no_such_export(name));
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

    fn no_such_export(&self, name: &str) -> ProgramError {
        let available: Vec<&str> = self
            .module
            .exports()
            .filter(|(_, ty)| matches!(ty, ExternType::Func(_)))
            .map(|(name, _)| name)
            .collect();
        ProgramError::NoSuchExport {
            name: name.to_string(),
            available: if available.is_empty() {
                "none".to_string()
            } else {
                available.join(", ")
            },
        }
    }

    /// Runs `func` until it finishes, traps or uses up `fuel`.
    fn run_func(
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
