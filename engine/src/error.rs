//! The engine's error type and the traps that guest code can run into.

use std::fmt;

/// What went wrong in the engine's API (as opposed to a trap, which is an outcome of running guest code).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module is malformed or invalid.
    #[error("invalid module: {0}")]
    Validation(String),
    /// An import is missing or has the wrong type.
    #[error("link error: {0}")]
    Link(String),
    /// Instantiation trapped while initializing segments.
    #[error("instantiation trapped: {0}")]
    Instantiation(Trap),
    /// The module uses something the engine does not implement yet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A call was made with the wrong arguments or in the wrong state.
    #[error("bad call: {0}")]
    Call(String),
    /// A snapshot does not fit the given modules or the engine, or its checked body describes an impossible state.
    #[error("bad snapshot: {0}")]
    Snapshot(String),
    /// A snapshot file was damaged after it was written: cut short, altered or padded.
    #[error("damaged snapshot: {0}")]
    SnapshotDamaged(crate::snapshot::SnapshotDamage),
    /// A snapshot file of another format version than the one this engine reads.
    #[error(
        "snapshot format version {found}: written by {} capicola; this build reads version {}",
        if *found < crate::snapshot::FORMAT_VERSION { "an older" } else { "a newer" },
        crate::snapshot::FORMAT_VERSION
    )]
    SnapshotVersion { found: u32 },
    /// A snapshot file announces a body larger than decoding may allocate.
    #[error("snapshot body of {claimed} bytes exceeds the limit of {limit} bytes")]
    SnapshotTooLarge { claimed: u64, limit: u64 },
}

/// Why guest code trapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` past the end of its table.
    UndefinedElement,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    InvalidConversionToInteger,
    StackExhausted,
    NullReference,
    /// A function reference naming no function of the store went into a table (only a damaged snapshot can
    /// put one on the operand stack).
    BadReference,
    /// Allocating what the guest asked for would pass one of the store's limits (`Config`), or the host could not
    /// allocate it: instantiation fails with this trap (`memory.grow` and `table.grow` return -1 instead).
    ResourceExhausted(Resource),
    /// A host function reported a trap.
    Host(String),
    /// The sanitizer refused a memory access or an allocator call (`Config::sanitize`).
    Sanitizer(Box<crate::sanitizer::SanitizerReport>),
}

/// What a store ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Linear memory, counted over every memory of the store (`Config::max_memory_bytes`).
    Memory,
    /// Table elements, counted over every table of the store (`Config::max_table_elements`).
    TableElements,
}

impl TrapKind {
    /// The message the Wasm spec test suite uses for this trap.
    pub fn message(&self) -> &str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::IndirectCallToNull => "uninitialized element",
            TrapKind::BadSignature => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::StackExhausted => "call stack exhausted",
            TrapKind::NullReference => "null reference",
            TrapKind::BadReference => "reference to a missing function",
            TrapKind::ResourceExhausted(Resource::Memory) => {
                "resource exhausted: the store's linear memory limit (or the host's memory) is reached"
            }
            TrapKind::ResourceExhausted(Resource::TableElements) => {
                "resource exhausted: the store's table element limit (or the host's memory) is reached"
            }
            TrapKind::Host(msg) => msg,
            TrapKind::Sanitizer(report) => report.violation.name(),
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One frame of a Wasm backtrace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// Function index in its module's function index space.
    pub func_index: u32,
    /// Byte offset of the instruction in the module binary.
    pub offset: usize,
}

/// A trap: its kind and the Wasm call stack at the trapping instruction, innermost frame first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Trap {
    pub kind: TrapKind,
    pub backtrace: Vec<FrameInfo>,
}

impl Trap {
    pub fn new(kind: TrapKind) -> Self {
        Trap {
            kind,
            backtrace: Vec::new(),
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.message())
    }
}

impl std::error::Error for Trap {}
