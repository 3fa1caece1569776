//! The sanitizer's state in a store: shadow memory, heap blocks, quarantine.

use std::sync::Arc;

use imbl::{OrdMap, Vector};

use super::{BadAccess, BlockReport, BlockState, SanitizerReport, Violation, poison};
use crate::error::FrameInfo;

/// Bytes of memory one shadow byte describes.
pub(crate) const GRANULE: u64 = 8;
/// Shadow bytes per dirty-tracked shadow page: 512, describing a 4 KiB memory page.
const SHADOW_PAGE_SHIFT: u32 = 9;
/// Freed blocks stay poisoned in quarantine, first in first out, until their sizes pass this many bytes.
pub(crate) const QUARANTINE_BYTES: u64 = 16 << 20;
/// Bytes below the shadow stack pointer a leaf function may use without moving it (LLVM's Wasm red zone).
pub(crate) const STACK_RED_ZONE: u32 = 128;
/// Bytes of poisoned gap the sanitizer leaves below every shadow-stack frame.
pub(crate) const STACK_GAP: u32 = 16;
/// Frames kept of an allocation or free backtrace.
pub(crate) const MAX_FRAMES: usize = 16;

/// A frame of an allocation or free backtrace as the interpreter sees it: resolved to a [`FrameInfo`] only when
/// reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct RawFrame {
    pub(crate) instance: u32,
    pub(crate) body: u32,
    /// The op the frame stands at (for callers: their call).
    pub(crate) pc: u32,
}

/// A heap block handed out by the wrapped allocator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Block {
    /// What the real allocator returned: the left redzone starts here.
    base: u32,
    /// The address handed out.
    user: u32,
    /// Bytes asked of the real allocator: redzones included.
    request: u32,
    /// Bytes the program asked for.
    size: u32,
    alloc: Arc<[RawFrame]>,
    free: Option<Arc<[RawFrame]>>,
}

impl Block {
    fn covers(&self, addr: u64) -> bool {
        u64::from(self.base) <= addr && addr < u64::from(self.base) + u64::from(self.request)
    }
}

/// The redzone right of a block of `size` bytes (ASan's sizes: larger blocks get larger redzones).
fn right_redzone(size: u32) -> u32 {
    match size {
        0..=48 => 16,
        49..=96 => 32,
        97..=448 => 64,
        449..=3968 => 128,
        3969..=16128 => 256,
        16129..=32256 => 512,
        32257..=64512 => 1024,
        _ => 2048,
    }
}

/// The redzone left of a block aligned to `align`: at least 16 bytes, and a multiple of the alignment so the
/// address handed out keeps it.
pub(crate) fn left_redzone(align: u32) -> u32 {
    align.max(16).checked_next_power_of_two().unwrap_or(16)
}

/// What the interpreter asks the real allocator for, for `size` bytes at `align`: `u32::MAX` (which it cannot
/// give) when that overflows.
pub(crate) fn request_size(size: u32, align: u32) -> u32 {
    u64::from(left_redzone(align))
        .checked_add(u64::from(size).div_ceil(GRANULE) * GRANULE)
        .and_then(|n| n.checked_add(u64::from(right_redzone(size))))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(u32::MAX)
}

/// An access the shadow refused, before its report is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused {
    pub(crate) addr: u64,
    pub(crate) size: u64,
    pub(crate) write: bool,
    pub(crate) bad_addr: u64,
    pub(crate) code: u8,
}

/// Resolves recorded frames to backtrace positions.
pub(crate) type Resolve<'a> = &'a dyn Fn(&[RawFrame]) -> Vec<FrameInfo>;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Sanitizer {
    /// The store memory the shadow describes.
    pub(crate) memory: u32,
    /// The store global holding LLVM's shadow stack pointer, when known.
    pub(crate) stack_pointer: Option<u32>,
    /// Snapshots store it apart, as sparse pages (`without_shadow`, `with_shadow`).
    #[serde(skip)]
    shadow: Vec<u8>,
    /// Wrapped allocator calls in progress: checks are off while the real allocator runs (depth > 0).
    pub(crate) depth: u32,
    live: OrdMap<u32, Block>,
    /// Freed blocks in quarantine, by the address handed out, and their order.
    freed: OrdMap<u32, Block>,
    quarantine: Vector<u32>,
    quarantine_bytes: u64,
    /// Shadow pages written since the last `clear_dirty`, for `reset_to`.
    #[serde(skip)]
    dirty: Dirty,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Dirty {
    bits: Vec<u64>,
    list: Vec<u32>,
}

impl Dirty {
    fn mark(&mut self, first: usize, last: usize) {
        for page in (first >> SHADOW_PAGE_SHIFT)..=(last >> SHADOW_PAGE_SHIFT) {
            let (word, bit) = (page / 64, page % 64);
            if word >= self.bits.len() {
                self.bits.resize(word + 1, 0);
            }
            if self.bits[word] & (1 << bit) == 0 {
                self.bits[word] |= 1 << bit;
                self.list.push(page as u32);
            }
        }
    }

    fn clear(&mut self) {
        for &page in &self.list {
            self.bits[page as usize / 64] = 0;
        }
        self.list.clear();
    }
}

impl Sanitizer {
    /// A sanitizer for store memory `memory` of `len` bytes, all addressable but for a gap right above the shadow
    /// stack's top `stack_top` (the outermost frame's overflows land there).
    pub(crate) fn new(memory: u32, len: usize, stack: Option<(u32, u32)>) -> Sanitizer {
        let mut san = Sanitizer {
            memory,
            stack_pointer: stack.map(|(global, _)| global),
            shadow: vec![0; len.div_ceil(GRANULE as usize)],
            ..Sanitizer::default()
        };
        if let Some((_, top)) = stack {
            san.poison(u64::from(top), u64::from(STACK_GAP), poison::STACK_REDZONE);
        }
        san
    }

    pub(crate) fn shadow(&self) -> &[u8] {
        &self.shadow
    }

    /// Whether the real allocator is running (its own accesses are not checked).
    #[inline(always)]
    pub(crate) fn in_allocator(&self) -> bool {
        self.depth > 0
    }

    /// The fast check: whether every byte of `[ea, ea + n)` is addressable (`n` from 1 to 16, in bounds).
    #[inline(always)]
    pub(crate) fn clean(&self, ea: usize, n: usize) -> bool {
        let first = ea >> 3;
        let last = (ea + n - 1) >> 3;
        // Checked indexing that cannot fail: the shadow covers the whole memory and the access is in bounds.
        let ends = self.shadow[first] | self.shadow[last];
        ends == 0 && (last - first < 2 || self.shadow[first + 1] == 0)
    }

    /// Checks an access of `n` bytes at `ea` (in bounds of the memory): `None` when it may go ahead.
    /// `sp` is the shadow stack pointer's value.
    pub(crate) fn check(&self, ea: u64, n: u64, write: bool, sp: Option<u32>) -> Option<Refused> {
        if n == 0 || self.in_allocator() {
            return None;
        }
        // Word-at-a-time string functions (libc's `strlen`) read naturally aligned words that may run past the
        // end of a block; natively that is harmless. Like Memcheck's `--partial-loads-ok`, such a read is fine
        // when its first byte is addressable.
        if !write && matches!(n, 2 | 4 | 8 | 16) && ea.is_multiple_of(n) && self.addressable(ea) {
            return None;
        }
        let end = ea + n;
        let mut g = ea / GRANULE;
        while g * GRANULE < end {
            let code = self.shadow.get(g as usize).copied().unwrap_or(0);
            if code != 0 {
                let start = g * GRANULE;
                let bad = if code < GRANULE as u8 {
                    // The first `code` bytes of the granule are addressable.
                    let first_bad = start + u64::from(code);
                    (first_bad < end).then_some(first_bad.max(ea))
                } else {
                    Some(start.max(ea))
                };
                if let Some(bad_addr) = bad {
                    let allowed = code == poison::STACK_AFTER_RETURN
                        && sp.is_some_and(|sp| {
                            bad_addr >= u64::from(sp.saturating_sub(STACK_RED_ZONE))
                        });
                    if !allowed {
                        return Some(Refused {
                            addr: ea,
                            size: n,
                            write,
                            bad_addr,
                            code,
                        });
                    }
                }
            }
            g += 1;
        }
        None
    }

    /// Whether the byte at `addr` is addressable.
    fn addressable(&self, addr: u64) -> bool {
        match self.shadow.get((addr / GRANULE) as usize) {
            Some(0) | None => true,
            Some(&k) => k < GRANULE as u8 && addr % GRANULE < u64::from(k),
        }
    }

    /// A range check for bulk operations and host functions: whole granules at a time.
    pub(crate) fn check_range(
        &self,
        ea: u64,
        n: u64,
        write: bool,
        sp: Option<u32>,
    ) -> Option<Refused> {
        if n == 0 || self.in_allocator() {
            return None;
        }
        let (first, last) = ((ea / GRANULE) as usize, ((ea + n - 1) / GRANULE) as usize);
        let slice = self.shadow.get(first..=last)?;
        if slice.iter().all(|&c| c == 0) {
            return None;
        }
        self.check(ea, n, write, sp)
    }

    /// The report of a refused access.
    pub(crate) fn report(
        &self,
        r: Refused,
        host: Option<&'static str>,
        resolve: Resolve<'_>,
    ) -> SanitizerReport {
        let (violation, block) = match r.code {
            poison::HEAP_LEFT_REDZONE | poison::HEAP_RIGHT_REDZONE | 1..=7 => (
                Violation::HeapBufferOverflow,
                self.block_near(&self.live, r.bad_addr),
            ),
            poison::FREED => (
                Violation::UseAfterFree,
                self.block_near(&self.freed, r.bad_addr),
            ),
            poison::STACK_REDZONE => (Violation::StackBufferOverflow, None),
            poison::STACK_AFTER_RETURN => (Violation::StackUseAfterReturn, None),
            _ => (Violation::WildAccess, None),
        };
        SanitizerReport {
            violation,
            access: Some(BadAccess {
                addr: r.addr,
                size: r.size,
                write: r.write,
                bad_addr: r.bad_addr,
                host,
            }),
            pointer: None,
            block: block.map(|b| report_block(b, resolve)),
        }
    }

    /// The block of `map` whose redzones and bytes cover `addr`.
    fn block_near<'a>(&self, map: &'a OrdMap<u32, Block>, addr: u64) -> Option<&'a Block> {
        let key = u32::try_from(addr).ok()?;
        let below = map.range(..=key).next_back().map(|(_, b)| b);
        let above = map.range(key..).next().map(|(_, b)| b);
        below
            .into_iter()
            .chain(above)
            .find(|b| b.covers(addr))
            .or(below)
    }

    /// Marks `[start, start + len)` with shadow `code` (granules the range only partly covers keep theirs).
    fn poison(&mut self, start: u64, len: u64, code: u8) {
        let first = start.div_ceil(GRANULE) as usize;
        let end = ((start + len) / GRANULE) as usize;
        let end = end.min(self.shadow.len());
        if first < end {
            self.shadow[first..end].fill(code);
            self.dirty.mark(first, end - 1);
        }
    }

    /// Makes `[start, start + len)` addressable (`start` on a granule); a partial last granule says how many of its
    /// bytes are.
    fn unpoison(&mut self, start: u64, len: u64) {
        let first = (start / GRANULE) as usize;
        let full = (len / GRANULE) as usize;
        let end = (first + full).min(self.shadow.len());
        if first < end {
            self.shadow[first..end].fill(0);
            self.dirty.mark(first, end - 1);
        }
        let partial = (len % GRANULE) as u8;
        if partial != 0 && end < self.shadow.len() {
            self.shadow[end] = partial;
            self.dirty.mark(end, end);
        }
    }

    /// The memory grew to `len` bytes: new bytes are addressable, or unallocated heap when the allocator grew it.
    pub(crate) fn grow(&mut self, len: usize) {
        let old = self.shadow.len();
        let new = len.div_ceil(GRANULE as usize);
        if new > old {
            let code = if self.in_allocator() {
                poison::UNALLOCATED
            } else {
                0
            };
            self.shadow.resize(new, code);
            self.dirty.mark(old, new - 1);
        }
    }

    /// A wrapped allocator function starts; whether it is the outermost (the one that checks and records).
    pub(crate) fn enter(&mut self) -> bool {
        self.depth += 1;
        self.depth == 1
    }

    pub(crate) fn exit(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The real allocator returned `base` for a block of `size` bytes aligned to `align`: records it, poisons its
    /// redzones, and returns the address to hand out.
    pub(crate) fn allocated(
        &mut self,
        base: u32,
        size: u32,
        align: u32,
        alloc: Arc<[RawFrame]>,
    ) -> u32 {
        let left = left_redzone(align);
        let request = request_size(size, align);
        let user = base.wrapping_add(left);
        self.poison(u64::from(base), u64::from(left), poison::HEAP_LEFT_REDZONE);
        self.unpoison(u64::from(user), u64::from(size));
        let tail = u64::from(user) + u64::from(size).div_ceil(GRANULE) * GRANULE;
        self.poison(
            tail,
            u64::from(base) + u64::from(request) - tail,
            poison::HEAP_RIGHT_REDZONE,
        );
        // A block handed out again before leaving quarantine cannot happen (quarantined memory is not freed),
        // but an address reused after release drops its old record.
        self.freed.remove(&user);
        self.live.insert(
            user,
            Block {
                base,
                user,
                request,
                size,
                alloc,
                free: None,
            },
        );
        user
    }

    /// `free(ptr)`: poisons the block and puts it in quarantine. `Err` for a pointer `malloc` did not return or
    /// already freed.
    pub(crate) fn free(
        &mut self,
        ptr: u32,
        frames: Arc<[RawFrame]>,
        resolve: Resolve<'_>,
    ) -> Result<(), Box<SanitizerReport>> {
        if ptr == 0 {
            return Ok(());
        }
        if let Some(report) = self.bad_free(ptr, resolve) {
            return Err(Box::new(report));
        }
        let Some(mut block) = self.live.remove(&ptr) else {
            return Ok(());
        };
        self.poison(
            u64::from(ptr),
            u64::from(block.size).div_ceil(GRANULE) * GRANULE,
            poison::FREED,
        );
        block.free = Some(frames);
        self.quarantine_bytes = self
            .quarantine_bytes
            .saturating_add(u64::from(block.request));
        self.quarantine.push_back(ptr);
        self.freed.insert(ptr, block);
        Ok(())
    }

    /// The next block to hand back to the real allocator, oldest first, while the quarantine holds more than its
    /// bound: the address the real allocator returned for it (0 for none). Its bytes stay poisoned as freed.
    pub(crate) fn next_release(&mut self) -> u32 {
        if self.quarantine_bytes <= QUARANTINE_BYTES {
            return 0;
        }
        let Some(ptr) = self.quarantine.pop_front() else {
            return 0;
        };
        let Some(block) = self.freed.remove(&ptr) else {
            return 0;
        };
        // Saturating: a damaged snapshot may claim fewer bytes than its blocks hold.
        self.quarantine_bytes = self
            .quarantine_bytes
            .saturating_sub(u64::from(block.request));
        self.poison(
            u64::from(block.base),
            u64::from(block.request),
            poison::FREED,
        );
        block.base
    }

    /// The size of the live block handed out at `ptr`, if there is one.
    pub(crate) fn block_size(&self, ptr: u32) -> Option<u32> {
        self.live.get(&ptr).map(|b| b.size)
    }

    /// The report `free(ptr)` earns, if any: a pointer `malloc` did not return, or one already freed.
    pub(crate) fn bad_free(&self, ptr: u32, resolve: Resolve<'_>) -> Option<SanitizerReport> {
        if ptr == 0 || self.live.contains_key(&ptr) {
            return None;
        }
        let (violation, block) = match self.freed.get(&ptr) {
            Some(b) => (Violation::DoubleFree, Some(b)),
            None => (
                Violation::InvalidFree,
                self.block_near(&self.live, u64::from(ptr)),
            ),
        };
        Some(SanitizerReport {
            violation,
            access: None,
            pointer: Some(u64::from(ptr)),
            block: block.map(|b| report_block(b, resolve)),
        })
    }

    /// The shadow stack pointer is set from `old` to `new`: returns the value to store. A frame allocated (the
    /// pointer moves down) becomes addressable, with a poisoned gap below it; frames released (it moves up) are
    /// poisoned as returned.
    pub(crate) fn set_stack_pointer(&mut self, old: u32, new: u32) -> u32 {
        use std::cmp::Ordering;
        match new.cmp(&old) {
            Ordering::Less => {
                self.unpoison_stack(u64::from(new), u64::from(old - new));
                if new >= STACK_GAP + STACK_RED_ZONE {
                    let gap = new - STACK_GAP;
                    self.poison(u64::from(gap), u64::from(STACK_GAP), poison::STACK_REDZONE);
                    // What a leaf function below may use without moving the pointer.
                    self.unpoison_stack(u64::from(gap - STACK_RED_ZONE), u64::from(STACK_RED_ZONE));
                    gap
                } else {
                    new
                }
            }
            Ordering::Greater => {
                self.poison(
                    u64::from(old),
                    u64::from(new - old),
                    poison::STACK_AFTER_RETURN,
                );
                new
            }
            Ordering::Equal => new,
        }
    }

    /// Unpoisons the whole granules stack bytes `[start, start + len)` touch (frames are 16-byte aligned).
    fn unpoison_stack(&mut self, start: u64, len: u64) {
        let first = start / GRANULE * GRANULE;
        self.unpoison(first, (start + len).div_ceil(GRANULE) * GRANULE - first);
    }

    /// The block at or nearest `addr`, live or in quarantine.
    pub(crate) fn block_at(&self, addr: u64, resolve: Resolve<'_>) -> Option<BlockState> {
        let live = self.block_near(&self.live, addr);
        let freed = self.block_near(&self.freed, addr);
        let (block, is_live) = match (live, freed) {
            (Some(l), _) if l.covers(addr) => (l, true),
            (_, Some(f)) if f.covers(addr) => (f, false),
            (Some(l), _) => (l, true),
            (None, Some(f)) => (f, false),
            (None, None) => return None,
        };
        Some(BlockState {
            block: report_block(block, resolve),
            live: is_live,
        })
    }

    /// Blocks live now that were not live in `then`.
    pub(crate) fn leaks_since(&self, then: &Sanitizer, resolve: Resolve<'_>) -> Vec<BlockReport> {
        self.live
            .iter()
            .filter(|(ptr, b)| then.live.get(ptr) != Some(b))
            .map(|(_, b)| report_block(b, resolve))
            .collect()
    }

    /// Forgets which shadow pages were written: the current state becomes the baseline `reset_to` returns to.
    pub(crate) fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    /// Returns to `baseline` (this sanitizer earlier, with dirty marks cleared since): shadow pages written since
    /// are copied back, the block records shared again.
    pub(crate) fn reset_to(&mut self, baseline: &Sanitizer) {
        self.shadow.resize(baseline.shadow.len(), 0);
        for &page in &self.dirty.list {
            let start = (page as usize) << SHADOW_PAGE_SHIFT;
            if start < baseline.shadow.len() {
                let end = (start + (1 << SHADOW_PAGE_SHIFT)).min(baseline.shadow.len());
                self.shadow[start..end].copy_from_slice(&baseline.shadow[start..end]);
            }
        }
        self.dirty.clear();
        self.memory = baseline.memory;
        self.stack_pointer = baseline.stack_pointer;
        self.depth = baseline.depth;
        self.live = baseline.live.clone();
        self.freed = baseline.freed.clone();
        self.quarantine = baseline.quarantine.clone();
        self.quarantine_bytes = baseline.quarantine_bytes;
    }

    /// A copy without the shadow, for a snapshot that stores the shadow apart.
    pub(crate) fn without_shadow(&self) -> Sanitizer {
        Sanitizer {
            shadow: Vec::new(),
            dirty: Dirty::default(),
            ..self.clone()
        }
    }

    /// This state with `shadow` (as `without_shadow` left it, from a snapshot).
    pub(crate) fn with_shadow(&self, shadow: Vec<u8>) -> Sanitizer {
        Sanitizer {
            shadow,
            dirty: Dirty::default(),
            ..self.clone()
        }
    }

    /// Checks a restored sanitizer against the memory it describes.
    pub(crate) fn fits(&self, memory_len: usize) -> bool {
        self.shadow.len() == memory_len.div_ceil(GRANULE as usize)
    }
}

fn report_block(b: &Block, resolve: Resolve<'_>) -> BlockReport {
    BlockReport {
        start: u64::from(b.user),
        size: u64::from(b.size),
        allocated: resolve(&b.alloc),
        freed: b.free.as_ref().map(|f| resolve(f)),
    }
}
