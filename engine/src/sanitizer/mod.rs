//! The sanitizer: ASan's checks for C and C++ targets, done by the engine without recompiling them.
//!
//! A module translated by an engine with `Config::sanitize` gets:
//! - checked twins of its memory-0 loads and stores (`Op::sanitized`, generated from the op table) and checks in
//!   the bulk-memory and lane ops and in every WASI call that reads or writes guest memory;
//! - wrappers around the allocator it carries (`malloc`, `free`, `calloc`, `realloc`, `aligned_alloc`,
//!   `posix_memalign`, `memalign`, `malloc_usable_size`, found by export or in the name section): redzones around
//!   every block, a FIFO quarantine of freed blocks bounded in bytes, and the allocation and free backtraces of
//!   every block (`instrument`);
//! - on the LLVM shadow stack (`__stack_pointer`): a redzone below every frame and dead frames poisoned.
//!
//! The state ([`Sanitizer`]) is plain data in the store: a shadow byte for every 8 bytes of the sanitized memory
//! (ASan's encoding: 0 = all 8 addressable, 1..7 = the first k, [`poison`] codes otherwise), the blocks and the
//! quarantine. Snapshots carry it, `Store::reset_to` rewinds it (shadow pages copied back like memory pages,
//! block maps shared by reference), and the debugger's checkpoints hold it.

mod instrument;
mod recognize;
mod state;

pub(crate) use instrument::instrument;
pub use recognize::{AllocFn, Recognized, recognize};
pub(crate) use state::{MAX_FRAMES, RawFrame, Refused, Sanitizer, request_size};

use crate::error::FrameInfo;

/// ASan's shadow codes for poisoned granules.
pub mod poison {
    /// Left of a heap block.
    pub const HEAP_LEFT_REDZONE: u8 = 0xfa;
    /// Right of a heap block.
    pub const HEAP_RIGHT_REDZONE: u8 = 0xfb;
    /// A freed heap block (in quarantine, or released to the allocator and not handed out again).
    pub const FREED: u8 = 0xfd;
    /// Heap memory the allocator obtained (`memory.grow` while in the allocator) and has not handed out.
    pub const UNALLOCATED: u8 = 0xfe;
    /// Between two shadow-stack frames.
    pub const STACK_REDZONE: u8 = 0xf2;
    /// A shadow-stack frame that has returned.
    pub const STACK_AFTER_RETURN: u8 = 0xf5;
}

/// What the sanitizer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Violation {
    HeapBufferOverflow,
    UseAfterFree,
    DoubleFree,
    /// `free` (or `realloc`) of a pointer `malloc` did not return.
    InvalidFree,
    StackBufferOverflow,
    StackUseAfterReturn,
    /// An access to heap memory the allocator holds but has not handed out.
    WildAccess,
    /// A block allocated during the input and never freed (`Store::sanitizer_leaks`).
    MemoryLeak,
}

impl Violation {
    /// ASan's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Violation::HeapBufferOverflow => "heap-buffer-overflow",
            Violation::UseAfterFree => "heap-use-after-free",
            Violation::DoubleFree => "attempting double-free",
            Violation::InvalidFree => "attempting free on address which was not malloc()-ed",
            Violation::StackBufferOverflow => "stack-buffer-overflow",
            Violation::StackUseAfterReturn => "stack-use-after-return",
            Violation::WildAccess => "wild-heap-access",
            Violation::MemoryLeak => "memory-leak",
        }
    }

    /// A short identifier without spaces, for crash identities and file names.
    pub fn id(self) -> &'static str {
        match self {
            Violation::HeapBufferOverflow => "heap-buffer-overflow",
            Violation::UseAfterFree => "heap-use-after-free",
            Violation::DoubleFree => "double-free",
            Violation::InvalidFree => "invalid-free",
            Violation::StackBufferOverflow => "stack-buffer-overflow",
            Violation::StackUseAfterReturn => "stack-use-after-return",
            Violation::WildAccess => "wild-heap-access",
            Violation::MemoryLeak => "memory-leak",
        }
    }
}

/// The memory access that was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BadAccess {
    /// First address of the access.
    pub addr: u64,
    pub size: u64,
    pub write: bool,
    /// The first byte of the access that is not addressable.
    pub bad_addr: u64,
    /// Set when a host function made the access (the WASI function's name).
    pub host: Option<&'static str>,
}

/// A heap block as the sanitizer records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockReport {
    /// The address `malloc` returned.
    pub start: u64,
    /// The size asked for.
    pub size: u64,
    /// Where it was allocated, innermost frame first (the allocator function itself first).
    pub allocated: Vec<FrameInfo>,
    /// Where it was freed, when it was.
    pub freed: Option<Vec<FrameInfo>>,
}

impl BlockReport {
    /// ASan's description of `addr` relative to the block: `4 bytes after 16-byte region [0x.., 0x..)`.
    pub fn describe(&self, addr: u64) -> String {
        let end = self.start + self.size;
        let place = if addr < self.start {
            format!("{} bytes before", self.start - addr)
        } else if addr >= end {
            format!("{} bytes after", addr - end)
        } else {
            format!("{} bytes inside", addr - self.start)
        };
        format!(
            "{place} {}-byte region [{:#010x},{:#010x})",
            self.size, self.start, end
        )
    }
}

/// A sanitizer finding: what the trap kind [`crate::TrapKind::Sanitizer`] carries. The backtrace of the access (or
/// of the `free` call) is the trap's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SanitizerReport {
    pub violation: Violation,
    /// The access, for overflows and uses after free or return.
    pub access: Option<BadAccess>,
    /// The pointer passed, for double and invalid frees.
    pub pointer: Option<u64>,
    /// The heap block the address belongs to or lies nearest to, when there is one.
    pub block: Option<BlockReport>,
}

impl SanitizerReport {
    /// One line: kind and access, as the first line of ASan's report says it.
    pub fn headline(&self) -> String {
        match (&self.access, self.pointer) {
            (Some(a), _) => format!(
                "{} on address {:#010x}: {} of size {} at {:#010x}{}",
                self.violation.name(),
                a.bad_addr,
                if a.write { "WRITE" } else { "READ" },
                a.size,
                a.addr,
                a.host
                    .map(|h| format!(" (by the host function {h})"))
                    .unwrap_or_default()
            ),
            (None, Some(p)) => format!("{} on {p:#010x}", self.violation.name()),
            (None, None) => self.violation.name().to_string(),
        }
    }
}

/// Who allocated and freed the heap block around an address (the debugger's `info block`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockState {
    pub block: BlockReport,
    /// Still allocated; otherwise freed and in quarantine.
    pub live: bool,
}
