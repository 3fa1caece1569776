//! The `DiffEngine` trait: an engine that instantiates a module against dummy imports, calls its exports and reports results, traps and final state as plain data that any two engines' answers can be compared in.

use std::fmt;

/// A value type, the same for every engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffValueType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

impl fmt::Display for DiffValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiffValueType::I32 => "i32",
            DiffValueType::I64 => "i64",
            DiffValueType::F32 => "f32",
            DiffValueType::F64 => "f64",
            DiffValueType::V128 => "v128",
            DiffValueType::FuncRef => "funcref",
            DiffValueType::ExternRef => "externref",
        })
    }
}

/// A function's type, which stands for a non-null function reference: engines share no function identities.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncSig {
    pub params: Vec<DiffValueType>,
    pub results: Vec<DiffValueType>,
}

impl fmt::Display for FuncSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |types: &[DiffValueType]| {
            types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(f, "[{}] -> [{}]", list(&self.params), list(&self.results))
    }
}

/// A Wasm value as every engine reports it. Floats are raw bits, so NaN payloads survive until the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DiffValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// Null, or a function known by its type.
    FuncRef(Option<FuncSig>),
    /// Null, or the host's number for the reference (the spec suite's `ref.extern N`).
    ExternRef(Option<u32>),
}

impl DiffValue {
    pub fn ty(&self) -> DiffValueType {
        match self {
            DiffValue::I32(_) => DiffValueType::I32,
            DiffValue::I64(_) => DiffValueType::I64,
            DiffValue::F32(_) => DiffValueType::F32,
            DiffValue::F64(_) => DiffValueType::F64,
            DiffValue::V128(_) => DiffValueType::V128,
            DiffValue::FuncRef(_) => DiffValueType::FuncRef,
            DiffValue::ExternRef(_) => DiffValueType::ExternRef,
        }
    }

    /// The zero value (or null reference) of a type: what dummy imports hold and return.
    pub fn zero(ty: DiffValueType) -> DiffValue {
        match ty {
            DiffValueType::I32 => DiffValue::I32(0),
            DiffValueType::I64 => DiffValue::I64(0),
            DiffValueType::F32 => DiffValue::F32(0),
            DiffValueType::F64 => DiffValue::F64(0),
            DiffValueType::V128 => DiffValue::V128(0),
            DiffValueType::FuncRef => DiffValue::FuncRef(None),
            DiffValueType::ExternRef => DiffValue::ExternRef(None),
        }
    }
}

impl fmt::Display for DiffValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffValue::FuncRef(Some(sig)) => write!(f, "func{sig}:funcref"),
            other => f.write_str(&crate::values::format_val(other.to_capicola())),
        }
    }
}

impl DiffValue {
    /// The capicola value; a non-null function reference, which has no meaning outside its store, becomes null.
    pub(crate) fn to_capicola(&self) -> capicola_engine::Val {
        use capicola_engine::Val;
        match *self {
            DiffValue::I32(v) => Val::I32(v),
            DiffValue::I64(v) => Val::I64(v),
            DiffValue::F32(v) => Val::F32(v),
            DiffValue::F64(v) => Val::F64(v),
            DiffValue::V128(v) => Val::V128(v),
            DiffValue::FuncRef(_) => Val::FuncRef(None),
            DiffValue::ExternRef(r) => Val::ExternRef(r),
        }
    }
}

/// Why guest code trapped, in classes every engine can name. `call_indirect` past the end of its table is
/// `TableOutOfBounds` here: engines disagree on whether it is an "undefined element" or a table access.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrapClass {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    InvalidConversionToInteger,
    NullReference,
    /// Anything else, by the engine's own message.
    Other(String),
}

impl fmt::Display for TrapClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapClass::Unreachable => "unreachable",
            TrapClass::MemoryOutOfBounds => "out of bounds memory access",
            TrapClass::TableOutOfBounds => "out of bounds table access",
            TrapClass::IndirectCallToNull => "uninitialized element",
            TrapClass::BadSignature => "indirect call type mismatch",
            TrapClass::IntegerOverflow => "integer overflow",
            TrapClass::IntegerDivisionByZero => "integer divide by zero",
            TrapClass::InvalidConversionToInteger => "invalid conversion to integer",
            TrapClass::NullReference => "null reference",
            TrapClass::Other(message) => message,
        })
    }
}

/// How one call of an export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call returned these results.
    Returned(Vec<DiffValue>),
    /// Guest code trapped.
    Trapped(TrapClass),
    /// The call used up the engine's fuel: engines count fuel differently, so this decides nothing.
    OutOfFuel,
    /// The call stack or value stack ran out: engines have different limits, so this decides nothing.
    StackExhausted,
    /// The host refused memory the call asked for: no engine's fault, so this decides nothing.
    ResourceLimit(String),
    /// The engine failed in a way that is neither a result nor a trap (an API error, a snapshot that does not
    /// restore); always a finding.
    Error(String),
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallOutcome::Returned(values) => {
                let values: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "returned [{}]", values.join(", "))
            }
            CallOutcome::Trapped(class) => write!(f, "trapped: {class}"),
            CallOutcome::OutOfFuel => f.write_str("ran out of fuel"),
            CallOutcome::StackExhausted => f.write_str("exhausted the stack"),
            CallOutcome::ResourceLimit(message) => write!(f, "resource limit: {message}"),
            CallOutcome::Error(message) => write!(f, "engine error: {message}"),
        }
    }
}

/// Why a module did not become an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstantiateFailure {
    /// The engine rejected the module as malformed or invalid.
    Invalid(String),
    /// The module uses something this engine does not implement.
    Unsupported(String),
    /// A segment did not fit, or the start function trapped.
    Trapped(TrapClass),
    /// The start function used up the fuel.
    OutOfFuel,
    /// The start function exhausted the stack.
    StackExhausted,
    /// A memory or table is larger than the engine's limits allow.
    ResourceLimit(String),
    /// Anything else the engine reported.
    Error(String),
}

impl fmt::Display for InstantiateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateFailure::Invalid(message) => write!(f, "invalid module: {message}"),
            InstantiateFailure::Unsupported(message) => write!(f, "unsupported: {message}"),
            InstantiateFailure::Trapped(class) => write!(f, "instantiation trapped: {class}"),
            InstantiateFailure::OutOfFuel => f.write_str("the start function ran out of fuel"),
            InstantiateFailure::StackExhausted => {
                f.write_str("the start function exhausted the stack")
            }
            InstantiateFailure::ResourceLimit(message) => write!(f, "resource limit: {message}"),
            InstantiateFailure::Error(message) => write!(f, "engine error: {message}"),
        }
    }
}

/// An exported memory at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryDump {
    pub bytes: Vec<u8>,
}

impl MemoryDump {
    /// A 64-bit hash of the contents (deterministic across runs), for reports.
    pub fn hash(&self) -> u64 {
        // FNV-1a: fixed, simple, and fast enough for the few MiB a case may have.
        self.bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// Everything an instance exports besides functions, by export name in export order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceState {
    pub globals: Vec<(String, DiffValue)>,
    pub memories: Vec<(String, MemoryDump)>,
    pub tables: Vec<(String, Vec<DiffValue>)>,
}

/// Limits every engine of a comparison is given, so that they agree on what a module may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Instructions one call (or the start function) may execute. Engines that count fuel in other units scale it
    /// (see each engine); a call that runs out on either side is inconclusive.
    pub fuel_per_call: u64,
    /// Largest size of any one memory, in bytes: beyond it `memory.grow` fails and instantiation is refused.
    pub max_memory_bytes: u64,
    /// Largest size of any one table, in elements.
    pub max_table_elements: u64,
}

impl Default for Limits {
    /// The fuzz harness's limits (`engine/fuzz/harness.rs`): 100,000 instructions a call, 16 MiB memories and
    /// tables of 2^20 elements.
    fn default() -> Self {
        Limits {
            fuel_per_call: 100_000,
            max_memory_bytes: 16 << 20,
            max_table_elements: 1 << 20,
        }
    }
}

/// An engine that can instantiate modules: a reference engine, or capicola run one way or another.
///
/// Imports are dummies: a function returns zero values of its result types, a global holds the zero of its
/// type, a table is null-filled and a memory zeroed, each of the imported type's minimum size. The start
/// function runs as part of instantiation.
pub trait DiffEngine {
    /// The engine's name in reports.
    fn name(&self) -> &'static str;

    /// Instantiates `wasm` against dummy imports and runs its start function.
    fn instantiate(&mut self, wasm: &[u8]) -> Result<Box<dyn DiffInstance>, InstantiateFailure>;
}

/// An instance of a module in one engine.
pub trait DiffInstance {
    /// Calls the exported function `name` with `args`, which have its parameter types.
    fn call(&mut self, name: &str, args: &[DiffValue]) -> CallOutcome;

    /// The exported globals, memories and tables as they are now.
    fn state(&mut self) -> InstanceState;
}
