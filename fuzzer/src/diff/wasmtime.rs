//! wasmtime as a `DiffEngine` (cargo feature `wasmtime`, which CI does not build): the optimizing compiler as a reference, with fuel metering and store limits matching capicola's.

use ::wasmtime as w;

use super::engine::{
    CallOutcome, DiffEngine, DiffInstance, DiffValue, DiffValueType, FuncSig, InstanceState,
    InstantiateFailure, Limits, MemoryDump, TrapClass,
};

/// wasmtime charges one unit of fuel per Wasm operator (blocks and `nop` free), like wasmi; it gets as much
/// headroom over capicola's instruction count.
pub const WASMTIME_FUEL_FACTOR: u64 = 4;

/// wasmtime behind the `DiffEngine` trait.
#[derive(Clone)]
pub struct WasmtimeEngine {
    engine: w::Engine,
    limits: Limits,
}

impl std::fmt::Debug for WasmtimeEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeEngine")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WasmtimeEngine {
    pub fn new(limits: Limits) -> Result<WasmtimeEngine, String> {
        let mut config = w::Config::new();
        config
            .consume_fuel(true)
            // Exactly the proposals capicola implements.
            .wasm_simd(true)
            .wasm_relaxed_simd(false)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_multi_memory(true)
            .wasm_memory64(true)
            .wasm_custom_page_sizes(false)
            .wasm_wide_arithmetic(false)
            .wasm_gc(false)
            .wasm_function_references(false)
            .wasm_exceptions(false)
            .wasm_stack_switching(false);
        let engine = w::Engine::new(&config).map_err(|e| e.to_string())?;
        Ok(WasmtimeEngine { engine, limits })
    }
}

struct HostState {
    limits: w::StoreLimits,
}

impl DiffEngine for WasmtimeEngine {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Box<dyn DiffInstance>, InstantiateFailure> {
        let module = w::Module::new(&self.engine, wasm)
            .map_err(|e| InstantiateFailure::Invalid(format!("{e:#}")))?;
        let limits = w::StoreLimitsBuilder::new()
            .memory_size(usize::try_from(self.limits.max_memory_bytes).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(self.limits.max_table_elements).unwrap_or(usize::MAX))
            .build();
        let mut store = w::Store::new(&self.engine, HostState { limits });
        store.limiter(|state| &mut state.limits);
        let fuel = self
            .limits
            .fuel_per_call
            .saturating_mul(WASMTIME_FUEL_FACTOR);
        // By position, not by name: a module may import one name twice, with different types.
        let mut imports = Vec::new();
        for import in module.imports() {
            let ext: w::Extern = match import.ty() {
                w::ExternType::Func(ty) => {
                    let results: Vec<w::Val> = ty
                        .results()
                        .map(|t| w::Val::default_for_ty(&t).expect("core types have defaults"))
                        .collect();
                    w::Func::new(&mut store, ty.clone(), move |_, _, out| {
                        out.clone_from_slice(&results);
                        Ok(())
                    })
                    .into()
                }
                w::ExternType::Global(ty) => {
                    let zero =
                        w::Val::default_for_ty(ty.content()).expect("core types have defaults");
                    w::Global::new(&mut store, ty, zero)
                        .map_err(resource_limit)?
                        .into()
                }
                w::ExternType::Table(ty) => {
                    let null = w::Ref::null(ty.element().heap_type());
                    w::Table::new(&mut store, ty, null)
                        .map_err(resource_limit)?
                        .into()
                }
                w::ExternType::Memory(ty) => w::Memory::new(&mut store, ty)
                    .map_err(resource_limit)?
                    .into(),
                w::ExternType::Tag(_) => {
                    return Err(InstantiateFailure::Unsupported("tag imports".into()));
                }
            };
            imports.push(ext);
        }
        store
            .set_fuel(fuel)
            .map_err(|e| InstantiateFailure::Error(format!("{e:#}")))?;
        let instance =
            w::Instance::new(&mut store, &module, &imports).map_err(|e| match classify(&e) {
                Failure::Trap(class) => InstantiateFailure::Trapped(class),
                Failure::OutOfFuel => InstantiateFailure::OutOfFuel,
                Failure::StackExhausted => InstantiateFailure::StackExhausted,
                Failure::Resources => InstantiateFailure::ResourceLimit(format!("{e:#}")),
                Failure::Other => InstantiateFailure::Error(format!("{e:#}")),
            })?;
        Ok(Box::new(WasmtimeInstance {
            store,
            instance,
            fuel,
        }))
    }
}

fn resource_limit(e: w::Error) -> InstantiateFailure {
    InstantiateFailure::ResourceLimit(format!("{e:#}"))
}

fn value_type(ty: &w::ValType) -> DiffValueType {
    match ty {
        w::ValType::I32 => DiffValueType::I32,
        w::ValType::I64 => DiffValueType::I64,
        w::ValType::F32 => DiffValueType::F32,
        w::ValType::F64 => DiffValueType::F64,
        w::ValType::V128 => DiffValueType::V128,
        t if t.is_externref() => DiffValueType::ExternRef,
        _ => DiffValueType::FuncRef,
    }
}

enum Failure {
    Trap(TrapClass),
    OutOfFuel,
    StackExhausted,
    Resources,
    Other,
}

/// wasmtime's traps in capicola's classes.
fn classify(e: &w::Error) -> Failure {
    use w::Trap as T;
    let Some(trap) = e.downcast_ref::<T>() else {
        return Failure::Other;
    };
    Failure::Trap(match trap {
        T::UnreachableCodeReached => TrapClass::Unreachable,
        T::MemoryOutOfBounds | T::HeapMisaligned => TrapClass::MemoryOutOfBounds,
        T::TableOutOfBounds => TrapClass::TableOutOfBounds,
        T::IndirectCallToNull => TrapClass::IndirectCallToNull,
        T::BadSignature => TrapClass::BadSignature,
        T::IntegerOverflow => TrapClass::IntegerOverflow,
        T::IntegerDivisionByZero => TrapClass::IntegerDivisionByZero,
        T::BadConversionToInteger => TrapClass::InvalidConversionToInteger,
        T::NullReference => TrapClass::NullReference,
        T::StackOverflow => return Failure::StackExhausted,
        T::OutOfFuel => return Failure::OutOfFuel,
        T::AllocationTooLarge => return Failure::Resources,
        other => TrapClass::Other(other.to_string()),
    })
}

struct WasmtimeInstance {
    store: w::Store<HostState>,
    instance: w::Instance,
    fuel: u64,
}

impl WasmtimeInstance {
    fn value(&mut self, v: &w::Val) -> DiffValue {
        match v {
            w::Val::I32(v) => DiffValue::I32(*v),
            w::Val::I64(v) => DiffValue::I64(*v),
            w::Val::F32(v) => DiffValue::F32(*v),
            w::Val::F64(v) => DiffValue::F64(*v),
            w::Val::V128(v) => DiffValue::V128(v.as_u128()),
            w::Val::FuncRef(f) => DiffValue::FuncRef(f.as_ref().map(|f| self.signature(f))),
            w::Val::ExternRef(r) => DiffValue::ExternRef(r.as_ref().map(|r| self.extern_number(r))),
            // Not produced by the proposals enabled.
            _ => DiffValue::ExternRef(Some(u32::MAX)),
        }
    }

    fn reference(&mut self, r: &w::Ref) -> DiffValue {
        match r {
            w::Ref::Func(f) => DiffValue::FuncRef(f.as_ref().map(|f| self.signature(f))),
            w::Ref::Extern(r) => DiffValue::ExternRef(r.as_ref().map(|r| self.extern_number(r))),
            _ => DiffValue::ExternRef(Some(u32::MAX)),
        }
    }

    fn signature(&self, f: &w::Func) -> FuncSig {
        let ty = f.ty(&self.store);
        FuncSig {
            params: ty.params().map(|t| value_type(&t)).collect(),
            results: ty.results().map(|t| value_type(&t)).collect(),
        }
    }

    /// The number an externref was made from; `u32::MAX` for any other object.
    fn extern_number(&self, r: &w::Rooted<w::ExternRef>) -> u32 {
        r.data(&self.store)
            .ok()
            .flatten()
            .and_then(|data| data.downcast_ref::<u32>().copied())
            .unwrap_or(u32::MAX)
    }

    fn arg(&mut self, v: &DiffValue) -> w::Val {
        match *v {
            DiffValue::I32(v) => w::Val::I32(v),
            DiffValue::I64(v) => w::Val::I64(v),
            DiffValue::F32(v) => w::Val::F32(v),
            DiffValue::F64(v) => w::Val::F64(v),
            DiffValue::V128(v) => w::Val::V128(v.into()),
            DiffValue::FuncRef(_) => w::Val::FuncRef(None),
            DiffValue::ExternRef(None) => w::Val::ExternRef(None),
            DiffValue::ExternRef(Some(n)) => {
                w::Val::ExternRef(w::ExternRef::new(&mut self.store, n).ok())
            }
        }
    }
}

impl DiffInstance for WasmtimeInstance {
    fn call(&mut self, name: &str, args: &[DiffValue]) -> CallOutcome {
        let Some(func) = self.instance.get_func(&mut self.store, name) else {
            return CallOutcome::Error(format!("no exported function `{name}`"));
        };
        let ty = func.ty(&self.store);
        let mut results: Vec<w::Val> = ty
            .results()
            .map(|t| w::Val::default_for_ty(&t).expect("core types have defaults"))
            .collect();
        let args: Vec<w::Val> = args.iter().map(|a| self.arg(a)).collect();
        if let Err(e) = self.store.set_fuel(self.fuel) {
            return CallOutcome::Error(format!("{e:#}"));
        }
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => CallOutcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Err(e) => match classify(&e) {
                Failure::Trap(class) => CallOutcome::Trapped(class),
                Failure::OutOfFuel => CallOutcome::OutOfFuel,
                Failure::StackExhausted => CallOutcome::StackExhausted,
                Failure::Resources => CallOutcome::ResourceLimit(format!("{e:#}")),
                Failure::Other => CallOutcome::Error(format!("{e:#}")),
            },
        }
    }

    fn state(&mut self) -> InstanceState {
        let mut state = InstanceState::default();
        let exports: Vec<(String, w::Extern)> = self
            .instance
            .exports(&mut self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, ext) in exports {
            match ext {
                w::Extern::Global(g) => {
                    let v = g.get(&mut self.store);
                    let value = self.value(&v);
                    state.globals.push((name, value));
                }
                w::Extern::Memory(m) => {
                    let bytes = m.data(&self.store).to_vec();
                    state.memories.push((name, MemoryDump { bytes }));
                }
                w::Extern::Table(t) => {
                    let size = t.size(&self.store);
                    let mut elems = Vec::new();
                    for i in 0..size {
                        let r = t
                            .get(&mut self.store, i)
                            .expect("indices below the table's size are in bounds");
                        elems.push(self.reference(&r));
                    }
                    state.tables.push((name, elems));
                }
                _ => {}
            }
        }
        state
    }
}
