//! wasmi 2.0 as a `DiffEngine`: the reference interpreter, with fuel metering for termination and store limits matching capicola's.

use ::wasmi as w;

use super::engine::{
    CallOutcome, DiffEngine, DiffInstance, DiffValue, DiffValueType, FuncSig, InstanceState,
    InstantiateFailure, Limits, MemoryDump, TrapClass,
};

/// wasmi charges about one unit per Wasm operator (blocks and `nop` are free) and one per 64 bytes that bulk
/// memory operations copy, where capicola charges one per instruction whatever it does: wasmi gets this many
/// times the fuel, so that a call capicola finishes is not cut short in wasmi.
pub const WASMI_FUEL_FACTOR: u64 = 4;

/// Deepest call stack in wasmi: capicola's default.
const MAX_RECURSION_DEPTH: usize = 20_000;

/// wasmi behind the `DiffEngine` trait.
#[derive(Debug, Clone)]
pub struct WasmiEngine {
    engine: w::Engine,
    limits: Limits,
}

impl WasmiEngine {
    pub fn new(limits: Limits) -> WasmiEngine {
        let mut config = w::Config::default();
        config
            .consume_fuel(true)
            .set_max_recursion_depth(MAX_RECURSION_DEPTH)
            // Exactly the proposals capicola implements.
            .wasm_simd(true)
            .wasm_relaxed_simd(false)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_multi_memory(true)
            .wasm_memory64(true)
            .wasm_custom_page_sizes(false)
            .wasm_wide_arithmetic(false);
        WasmiEngine {
            engine: w::Engine::new(&config),
            limits,
        }
    }
}

/// The store's data: its resource limits.
struct HostState {
    limits: w::StoreLimits,
}

impl DiffEngine for WasmiEngine {
    fn name(&self) -> &'static str {
        "wasmi"
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Box<dyn DiffInstance>, InstantiateFailure> {
        if let Some(bug) = known_wasmi_bug(wasm) {
            return Err(InstantiateFailure::Unsupported(bug.into()));
        }
        let module = w::Module::new(&self.engine, wasm)
            .map_err(|e| InstantiateFailure::Invalid(e.to_string()))?;
        let limits = w::StoreLimitsBuilder::new()
            .memory_size(usize::try_from(self.limits.max_memory_bytes).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(self.limits.max_table_elements).unwrap_or(usize::MAX))
            .build();
        let mut store = w::Store::new(&self.engine, HostState { limits });
        store.limiter(|state| &mut state.limits);
        let fuel = self.limits.fuel_per_call.saturating_mul(WASMI_FUEL_FACTOR);
        // By position, not by name: a module may import one name twice, with different types.
        let mut imports = Vec::new();
        for import in module.imports() {
            let ext: w::Extern = match import.ty() {
                w::ExternType::Func(ty) => {
                    let results: Vec<w::Val> = ty.results().iter().map(|&t| zero(t)).collect();
                    w::Func::new(&mut store, ty.clone(), move |_, _, out| {
                        out.clone_from_slice(&results);
                        Ok(())
                    })
                    .into()
                }
                w::ExternType::Global(ty) => {
                    w::Global::new(&mut store, zero(ty.content()), ty.mutability()).into()
                }
                w::ExternType::Table(ty) => {
                    w::Table::new(&mut store, *ty, w::Ref::null(ty.element()))
                        .map_err(resource_limit)?
                        .into()
                }
                w::ExternType::Memory(ty) => w::Memory::new(&mut store, *ty)
                    .map_err(resource_limit)?
                    .into(),
            };
            imports.push(ext);
        }
        store
            .set_fuel(fuel)
            .map_err(|e| InstantiateFailure::Error(e.to_string()))?;
        let instance =
            w::Instance::new(&mut store, &module, &imports).map_err(|e| match classify(&e) {
                Failure::Trap(class) => InstantiateFailure::Trapped(class),
                Failure::OutOfFuel => InstantiateFailure::OutOfFuel,
                Failure::StackExhausted => InstantiateFailure::StackExhausted,
                Failure::Resources => InstantiateFailure::ResourceLimit(e.to_string()),
                Failure::Other => InstantiateFailure::Error(e.to_string()),
            })?;
        Ok(Box::new(WasmiInstance {
            store,
            instance,
            fuel,
        }))
    }
}

/// Code that wasmi 2.0.0 gets wrong, found by this oracle; such modules are skipped (reproducers in
/// `corpora/regressions/diff/wasmi-*.wat`):
/// - a tail call of an imported function of type `[] -> []` from a function that Wasm called crashes the
///   process (SIGSEGV): `return_call` of such an import, or `return_call_indirect` through that type in a module
///   that imports one;
/// - an `i32` `select` whose condition is `i32.eqz` (or `i32.eq` with a constant 0) right before it (`nop`s aside)
///   returns the wrong operand when the first operand is a constant and the second a `global.get` or a load;
/// - a store whose address and value are two `local.get`s of one local, with an offset above 16 bits or on a
///   memory other than 0, panics in wasmi's translator ("entered unreachable code") when that local holds a value
///   just computed; the check skips every such store.
fn known_wasmi_bug(wasm: &[u8]) -> Option<&'static str> {
    use wasmparser::{Operator, Parser, Payload, TypeRef};
    let mut empty_types = Vec::new();
    let mut empty_imports = Vec::new();
    let mut imported_funcs = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return None };
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    empty_types
                        .push(ty.is_ok_and(|ty| ty.params().is_empty() && ty.results().is_empty()));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let Ok(import) = import else { return None };
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) = import.ty {
                        if empty_types.get(ty as usize).copied().unwrap_or(false) {
                            empty_imports.push(imported_funcs);
                        }
                        imported_funcs += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let Ok(mut reader) = body.get_operators_reader() else {
                    return None;
                };
                // The two operators before the current one.
                let mut before: [Option<Operator<'_>>; 2] = [None, None];
                while !reader.eof() {
                    let Ok(op) = reader.read() else { return None };
                    match &op {
                        Operator::ReturnCall { function_index }
                            if empty_imports.contains(function_index) =>
                        {
                            return Some(TAIL_CALL_CRASH);
                        }
                        Operator::ReturnCallIndirect { type_index, .. }
                            if !empty_imports.is_empty()
                                && empty_types
                                    .get(*type_index as usize)
                                    .copied()
                                    .unwrap_or(false) =>
                        {
                            return Some(TAIL_CALL_CRASH);
                        }
                        Operator::I32Store { memarg }
                        | Operator::I64Store { memarg }
                        | Operator::F32Store { memarg }
                        | Operator::F64Store { memarg }
                        | Operator::I32Store8 { memarg }
                        | Operator::I32Store16 { memarg }
                        | Operator::I64Store8 { memarg }
                        | Operator::I64Store16 { memarg }
                        | Operator::I64Store32 { memarg }
                            if (memarg.offset > 0xffff
                                || !matches!(
                                    memarg.target,
                                    wasmparser::MemArgTarget::Memory(0)
                                ))
                                && matches!(
                                    &before,
                                    [
                                        Some(Operator::LocalGet { local_index: a }),
                                        Some(Operator::LocalGet { local_index: b }),
                                    ] if a == b
                                ) =>
                        {
                            return Some(STORE_SAME_LOCAL);
                        }
                        Operator::Select | Operator::TypedSelect { .. } => {
                            let zero = |op: &Option<Operator<'_>>| {
                                matches!(op, Some(Operator::I32Const { value: 0 }))
                            };
                            match &before {
                                [_, Some(Operator::I32Eqz)] => return Some(SELECT_EQZ),
                                [prev, Some(Operator::I32Eq)] if zero(prev) => {
                                    return Some(SELECT_EQZ);
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                    if !matches!(op, Operator::Nop) {
                        before = [before[1].take(), Some(op)];
                    }
                }
            }
            _ => {}
        }
    }
    None
}

const TAIL_CALL_CRASH: &str = "wasmi 2.0.0 crashes (SIGSEGV) when a nested Wasm call tail-calls a host function of type [] -> []";
const STORE_SAME_LOCAL: &str = "wasmi 2.0.0 panics translating a store whose address and value are the same local (offset above 16 bits or memory other than 0)";
const SELECT_EQZ: &str =
    "wasmi 2.0.0 picks the wrong operand of an i32 select on an i32.eqz condition";

fn resource_limit(e: w::Error) -> InstantiateFailure {
    InstantiateFailure::ResourceLimit(e.to_string())
}

fn zero(ty: w::ValType) -> w::Val {
    match ty {
        w::ValType::I32 => w::Val::I32(0),
        w::ValType::I64 => w::Val::I64(0),
        w::ValType::F32 => w::Val::F32(w::F32::from_bits(0)),
        w::ValType::F64 => w::Val::F64(w::F64::from_bits(0)),
        w::ValType::V128 => w::Val::V128(w::V128::from(0u128)),
        w::ValType::FuncRef => w::Val::FuncRef(w::Nullable::Null),
        w::ValType::ExternRef => w::Val::ExternRef(w::Nullable::Null),
    }
}

fn value_type(ty: w::ValType) -> DiffValueType {
    match ty {
        w::ValType::I32 => DiffValueType::I32,
        w::ValType::I64 => DiffValueType::I64,
        w::ValType::F32 => DiffValueType::F32,
        w::ValType::F64 => DiffValueType::F64,
        w::ValType::V128 => DiffValueType::V128,
        w::ValType::FuncRef => DiffValueType::FuncRef,
        w::ValType::ExternRef => DiffValueType::ExternRef,
    }
}

/// What a wasmi error means for the comparison.
enum Failure {
    Trap(TrapClass),
    OutOfFuel,
    StackExhausted,
    /// The host could not give the memory or table asked for.
    Resources,
    Other,
}

/// wasmi's trap codes in capicola's classes. Segments that do not fit at instantiation are errors of their own
/// kind in wasmi, traps in the spec.
fn classify(e: &w::Error) -> Failure {
    use w::TrapCode as T;
    use w::errors::{InstantiationError as I, MemoryError as M, TableError};
    let code = match e.kind() {
        w::errors::ErrorKind::Instantiation(I::ElementSegmentDoesNotFit { .. }) => {
            return Failure::Trap(TrapClass::TableOutOfBounds);
        }
        w::errors::ErrorKind::Memory(M::OutOfBoundsAccess) => {
            return Failure::Trap(TrapClass::MemoryOutOfBounds);
        }
        w::errors::ErrorKind::Instantiation(
            I::TooManyInstances
            | I::TooManyTables
            | I::TooManyMemories
            | I::FailedToInstantiateMemory(_)
            | I::FailedToInstantiateTable(_),
        )
        | w::errors::ErrorKind::Memory(
            M::OutOfSystemMemory | M::ResourceLimiterDeniedAllocation | M::MinimumSizeOverflow,
        )
        | w::errors::ErrorKind::Table(
            TableError::OutOfSystemMemory
            | TableError::ResourceLimiterDeniedAllocation
            | TableError::MinimumSizeOverflow,
        ) => return Failure::Resources,
        _ => e.as_trap_code(),
    };
    let Some(code) = code else {
        return Failure::Other;
    };
    Failure::Trap(match code {
        T::UnreachableCodeReached => TrapClass::Unreachable,
        T::MemoryOutOfBounds => TrapClass::MemoryOutOfBounds,
        T::TableOutOfBounds => TrapClass::TableOutOfBounds,
        T::IndirectCallToNull => TrapClass::IndirectCallToNull,
        T::IntegerDivisionByZero => TrapClass::IntegerDivisionByZero,
        T::IntegerOverflow => TrapClass::IntegerOverflow,
        T::BadConversionToInteger => TrapClass::InvalidConversionToInteger,
        T::BadSignature => TrapClass::BadSignature,
        T::StackOverflow => return Failure::StackExhausted,
        T::OutOfFuel => return Failure::OutOfFuel,
        T::GrowthOperationLimited | T::OutOfSystemMemory => return Failure::Resources,
    })
}

struct WasmiInstance {
    store: w::Store<HostState>,
    instance: w::Instance,
    fuel: u64,
}

impl WasmiInstance {
    fn value(&self, v: &w::Val) -> DiffValue {
        match v {
            w::Val::I32(v) => DiffValue::I32(*v),
            w::Val::I64(v) => DiffValue::I64(*v),
            w::Val::F32(v) => DiffValue::F32(v.to_bits()),
            w::Val::F64(v) => DiffValue::F64(v.to_bits()),
            w::Val::V128(v) => DiffValue::V128(v.as_u128()),
            w::Val::FuncRef(f) => DiffValue::FuncRef(f.val().map(|f| self.signature(f))),
            w::Val::ExternRef(r) => DiffValue::ExternRef(r.val().map(|r| self.extern_number(r))),
        }
    }

    fn reference(&self, r: &w::Ref) -> DiffValue {
        match r {
            w::Ref::Func(f) => DiffValue::FuncRef(f.val().map(|f| self.signature(f))),
            w::Ref::Extern(r) => DiffValue::ExternRef(r.val().map(|r| self.extern_number(r))),
        }
    }

    fn signature(&self, f: &w::Func) -> FuncSig {
        let ty = f.ty(&self.store);
        FuncSig {
            params: ty.params().iter().map(|&t| value_type(t)).collect(),
            results: ty.results().iter().map(|&t| value_type(t)).collect(),
        }
    }

    /// The number an externref was made from (arguments are the only source of them); `u32::MAX` for any
    /// other object.
    fn extern_number(&self, r: &w::ExternRef) -> u32 {
        r.data(&self.store)
            .downcast_ref::<u32>()
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn arg(&mut self, v: &DiffValue) -> w::Val {
        match *v {
            DiffValue::I32(v) => w::Val::I32(v),
            DiffValue::I64(v) => w::Val::I64(v),
            DiffValue::F32(v) => w::Val::F32(w::F32::from_bits(v)),
            DiffValue::F64(v) => w::Val::F64(w::F64::from_bits(v)),
            DiffValue::V128(v) => w::Val::V128(w::V128::from(v)),
            DiffValue::FuncRef(_) => w::Val::FuncRef(w::Nullable::Null),
            DiffValue::ExternRef(None) => w::Val::ExternRef(w::Nullable::Null),
            DiffValue::ExternRef(Some(n)) => {
                w::Val::ExternRef(w::Nullable::Val(w::ExternRef::new(&mut self.store, n)))
            }
        }
    }
}

impl DiffInstance for WasmiInstance {
    fn call(&mut self, name: &str, args: &[DiffValue]) -> CallOutcome {
        let Some(func) = self.instance.get_func(&self.store, name) else {
            return CallOutcome::Error(format!("no exported function `{name}`"));
        };
        let ty = func.ty(&self.store);
        let mut results: Vec<w::Val> = ty.results().iter().map(|&t| zero(t)).collect();
        let args: Vec<w::Val> = args.iter().map(|a| self.arg(a)).collect();
        if let Err(e) = self.store.set_fuel(self.fuel) {
            return CallOutcome::Error(e.to_string());
        }
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => CallOutcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Err(e) => match classify(&e) {
                Failure::Trap(class) => CallOutcome::Trapped(class),
                Failure::OutOfFuel => CallOutcome::OutOfFuel,
                Failure::StackExhausted => CallOutcome::StackExhausted,
                Failure::Resources => CallOutcome::ResourceLimit(e.to_string()),
                Failure::Other => CallOutcome::Error(e.to_string()),
            },
        }
    }

    fn state(&mut self) -> InstanceState {
        let mut state = InstanceState::default();
        let exports: Vec<(String, w::Extern)> = self
            .instance
            .exports(&self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, ext) in exports {
            match ext {
                w::Extern::Global(g) => {
                    let value = self.value(&g.get(&self.store));
                    state.globals.push((name, value));
                }
                w::Extern::Memory(m) => {
                    let bytes = m.data(&self.store).to_vec();
                    state.memories.push((name, MemoryDump { bytes }));
                }
                w::Extern::Table(t) => {
                    let elems = (0..t.size(&self.store))
                        .map(|i| {
                            let r = t
                                .get(&self.store, i)
                                .expect("indices below the table's size are in bounds");
                            self.reference(&r)
                        })
                        .collect();
                    state.tables.push((name, elems));
                }
                w::Extern::Func(_) => {}
            }
        }
        state
    }
}
