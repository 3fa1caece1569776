//! The run harness: a module instantiated against dummy imports, then its start function and every exported function called with zero arguments under a fuel budget — what the `execute` fuzz target and the `smith` test mean by running a module.
//!
//! It is shared by source inclusion (`#[path = ".../harness.rs"] mod harness;`), so it depends on
//! `capicola-engine` and `std` only; the caller brings the module.

use capicola_engine::{
    Config, Engine, Error, Extern, ExternType, Func, Module, Outcome, Store, TrapKind, Val,
};

/// Fuel one call may use (host calls included, one unit each) before it is abandoned.
pub const FUEL_PER_CALL: u64 = 100_000;

/// What running a module came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Instantiation succeeded; when it did not (a segment out of bounds, a memory over the
    /// engine's limit), nothing was called.
    pub instantiated: bool,
    pub calls: u64,
    pub finished: u64,
    pub trapped: u64,
    pub out_of_fuel: u64,
    pub host_calls: u64,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, other: Summary) {
        self.instantiated |= other.instantiated;
        self.calls += other.calls;
        self.finished += other.finished;
        self.trapped += other.trapped;
        self.out_of_fuel += other.out_of_fuel;
        self.host_calls += other.host_calls;
    }
}

/// An engine with every feature the engine implements, and memory and table limits small enough
/// that no input can exhaust the host's memory (a fuzzer runs with a few GiB at most).
pub fn engine() -> Engine {
    Engine::new(Config {
        max_memory_bytes: 16 << 20,
        max_table_elements: 1 << 20,
        ..Config::default()
    })
}

/// Instantiates `module` against dummy imports, then calls its start function and every exported
/// function, each with zero arguments and [`FUEL_PER_CALL`].
///
/// Traps and instantiation failures are outcomes, counted in the summary. Everything else that
/// goes wrong — a dummy import rejected, a result of the wrong type, the store refusing a call —
/// is a bug of the engine (or of this harness) and panics.
pub fn execute(engine: &Engine, module: &Module) -> Summary {
    let mut summary = Summary::default();
    let mut store = Store::new(engine);
    let mut imports = Vec::new();
    for (host_id, import) in (0..).zip(module.imports()) {
        match dummy(&mut store, &import.ty, host_id) {
            Ok(ext) => imports.push(ext),
            // A memory or table the module imports may be larger than this engine allows.
            Err(Error::Instantiation(_)) => return summary,
            Err(e) => panic!("dummy for import {}.{}: {e}", import.module, import.name),
        }
    }
    let instance = match store.instantiate(module, &imports) {
        Ok(instance) => instance,
        Err(Error::Instantiation(_)) => return summary,
        Err(e) => panic!("instantiation against dummy imports failed: {e}"),
    };
    summary.instantiated = true;
    let exported = store
        .instance_exports(instance)
        .into_iter()
        .filter_map(|(_, ext)| match ext {
            Extern::Func(f) => Some(f),
            _ => None,
        });
    // The start function traps or not like any other; the exports are called either way.
    let funcs: Vec<Func> = store
        .instance_start(instance)
        .into_iter()
        .chain(exported)
        .collect();
    for f in funcs {
        if !call(&mut store, f, &mut summary) {
            break;
        }
    }
    summary
}

/// A fresh definition of an import's type: a host function (answered with zero values), or a
/// zero-initialized global, a null-filled table or a zeroed memory of the minimum size.
fn dummy(store: &mut Store, ty: &ExternType, host_id: u32) -> Result<Extern, Error> {
    Ok(match ty {
        ExternType::Func(ty) => Extern::Func(store.new_host_func(ty.clone(), host_id)),
        ExternType::Global(ty) => {
            Extern::Global(store.new_global(*ty, Val::default_for(ty.content))?)
        }
        ExternType::Table(ty) => Extern::Table(store.new_table(*ty, Val::default_for(ty.element))?),
        ExternType::Memory(ty) => Extern::Memory(store.new_memory(*ty)?),
    })
}

/// Calls `f` with zero arguments until it finishes, traps or runs out of fuel, answering host
/// calls with zero values. Returns whether the store is idle again, that is, can take another call.
fn call(store: &mut Store, f: Func, summary: &mut Summary) -> bool {
    let ty = store.func_type(f).clone();
    let args: Vec<Val> = ty.params().iter().map(|&t| Val::default_for(t)).collect();
    store
        .invoke(f, &args)
        .expect("an idle store accepts a call with arguments of the function's types");
    summary.calls += 1;
    let start = store.fuel_consumed();
    let mut host_calls = 0;
    loop {
        let spent = (store.fuel_consumed() - start).max(host_calls);
        let outcome = match FUEL_PER_CALL.checked_sub(spent) {
            Some(left) if left > 0 => store.run(left),
            _ => Outcome::OutOfFuel,
        };
        match outcome {
            Outcome::Finished(results) => {
                assert!(
                    results.iter().map(Val::ty).eq(ty.results().iter().copied()),
                    "results {results:?} do not match the function type {ty}"
                );
                assert!(!store.is_running(), "a finished call leaves the store idle");
                summary.finished += 1;
                return true;
            }
            Outcome::Trapped(_) => {
                assert!(!store.is_running(), "a trapped call leaves the store idle");
                summary.trapped += 1;
                return true;
            }
            Outcome::OutOfFuel => {
                summary.out_of_fuel += 1;
                // The engine has no abort: a trap injected at the pause ends the call. Should it
                // refuse to, the store stays busy and no further call can be made.
                store.host_trap(TrapKind::Host("out of fuel".into()));
                return !store.is_running();
            }
            Outcome::HostCall(call) => {
                summary.host_calls += 1;
                host_calls += 1;
                let results: Vec<Val> = store
                    .func_type(call.func)
                    .results()
                    .iter()
                    .map(|&t| Val::default_for(t))
                    .collect();
                store
                    .host_return(&results)
                    .expect("zero values of the result types answer a host call");
            }
        }
    }
}
