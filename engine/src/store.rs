//! The `Store`: every runtime entity (functions, memories, tables, globals, segments, instances) and the paused or running execution, all plain data.

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, FrameInfo, Resource, Trap, TrapKind};
use crate::exec::{self, Exit};
use crate::module::{ConstOp, Module, SegmentMode};
use crate::sanitizer::{BlockReport, BlockState, RawFrame, Sanitizer};
use crate::types::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType};
use crate::value::{Extern, Func, Global, Instance, Memory, Table, Val};

/// Size of a Wasm page in bytes.
pub const PAGE_SIZE: u64 = 65536;

#[derive(Debug, Clone)]
pub(crate) enum FuncInst {
    Wasm {
        instance: u32,
        func_index: u32,
        type_id: u32,
        ty: Arc<FuncType>,
    },
    Host {
        host_id: u32,
        type_id: u32,
        ty: Arc<FuncType>,
    },
}

impl FuncInst {
    pub(crate) fn type_id(&self) -> u32 {
        match self {
            FuncInst::Wasm { type_id, .. } | FuncInst::Host { type_id, .. } => *type_id,
        }
    }

    pub(crate) fn ty(&self) -> &Arc<FuncType> {
        match self {
            FuncInst::Wasm { ty, .. } | FuncInst::Host { ty, .. } => ty,
        }
    }
}

/// Maps a module's index spaces onto store entities.
#[derive(Debug, Clone)]
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    /// Where this instance's edges start in `Store::coverage`.
    pub(crate) cov_base: u32,
    pub(crate) funcs: Vec<u32>,
    pub(crate) tables: Vec<u32>,
    pub(crate) memories: Vec<u32>,
    pub(crate) globals: Vec<u32>,
    pub(crate) elems: Vec<u32>,
    pub(crate) datas: Vec<u32>,
}

/// Shift from a byte address to its dirty-tracking page.
pub(crate) const DIRTY_PAGE_SHIFT: u32 = 12;

/// The 4 KiB pages of a memory written since tracking was last cleared: a bitmap for the test, a list for the reset.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirtyPages {
    bits: Vec<u64>,
    pub(crate) list: Vec<u32>,
    /// A debugger's write watch on a byte range of this memory.
    pub(crate) watch: Option<Box<Watch>>,
}

/// Watched bytes `[lo, hi)`. Their pages never get their bit set, so every write to them takes the slow path that
/// checks the range; whether each watched page is in the dirty list is kept here instead.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub(crate) lo: usize,
    pub(crate) hi: usize,
    first_page: usize,
    listed: Vec<bool>,
    /// A write touched the range since this was last cleared.
    pub(crate) hit: bool,
    /// The watched bytes those writes touched, from the first to the last.
    pub(crate) span: Option<(usize, usize)>,
}

impl Watch {
    fn covers(&self, page: usize) -> bool {
        page >= self.first_page && page < self.first_page + self.listed.len()
    }

    /// A write of `[start, start + len)` reached watched page `page`: keeps the dirty list right and says whether
    /// the write touched the watched bytes.
    #[cold]
    fn on_write(&mut self, page: usize, start: usize, len: usize, list: &mut Vec<u32>) -> bool {
        let listed = &mut self.listed[page - self.first_page];
        if !*listed {
            *listed = true;
            list.push(page as u32);
        }
        let touched = start < self.hi && start + len > self.lo;
        if touched {
            let (lo, hi) = (start.max(self.lo), (start + len).min(self.hi));
            self.span = Some(self.span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        self.hit |= touched;
        touched
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MemoryInst {
    pub(crate) ty: MemoryType,
    pub(crate) data: Vec<u8>,
    /// Largest size in pages this memory may grow to.
    pub(crate) max_pages: u64,
    /// Present when the engine tracks dirty pages.
    pub(crate) dirty: Option<DirtyPages>,
}

impl MemoryInst {
    /// Records that `[start, start + len)` was written; true when the write touched watched bytes.
    #[inline]
    pub(crate) fn mark_dirty(&mut self, start: usize, len: usize) -> bool {
        let Some(dirty) = &mut self.dirty else {
            return false;
        };
        if len == 0 {
            return false;
        }
        let first = start >> DIRTY_PAGE_SHIFT;
        let last = (start + len - 1) >> DIRTY_PAGE_SHIFT;
        let mut touched = false;
        for page in first..=last {
            let (word, bit) = (page / 64, 1u64 << (page % 64));
            if word >= dirty.bits.len() {
                dirty.bits.resize(word + 1, 0);
            }
            if dirty.bits[word] & bit == 0 {
                if let Some(watch) = &mut dirty.watch
                    && watch.covers(page)
                {
                    touched |= watch.on_write(page, start, len, &mut dirty.list);
                    continue;
                }
                dirty.bits[word] |= bit;
                dirty.list.push(page as u32);
            }
        }
        touched
    }

    pub(crate) fn clear_dirty(&mut self) {
        if let Some(dirty) = &mut self.dirty {
            for &page in &dirty.list {
                dirty.bits[page as usize / 64] = 0;
            }
            dirty.list.clear();
            if let Some(watch) = &mut dirty.watch {
                watch.listed.fill(false);
            }
        }
    }

    /// Watches `[lo, hi)` for writes (replacing any watch), or stops watching with `None`. Needs dirty tracking.
    pub(crate) fn set_watch(&mut self, range: Option<(usize, usize)>) {
        let Some(dirty) = &mut self.dirty else { return };
        // The watched pages already in the list get their bit back.
        if let Some(watch) = dirty.watch.take() {
            for (i, listed) in watch.listed.iter().enumerate() {
                if *listed {
                    let page = watch.first_page + i;
                    if page / 64 >= dirty.bits.len() {
                        dirty.bits.resize(page / 64 + 1, 0);
                    }
                    dirty.bits[page / 64] |= 1 << (page % 64);
                }
            }
        }
        let Some((lo, hi)) = range.filter(|(lo, hi)| lo < hi) else {
            return;
        };
        let first_page = lo >> DIRTY_PAGE_SHIFT;
        let last_page = (hi - 1) >> DIRTY_PAGE_SHIFT;
        let mut listed = vec![false; last_page - first_page + 1];
        for (i, listed) in listed.iter_mut().enumerate() {
            let page = first_page + i;
            if let Some(word) = dirty.bits.get_mut(page / 64)
                && *word & (1 << (page % 64)) != 0
            {
                *word &= !(1 << (page % 64));
                *listed = true;
            }
        }
        dirty.watch = Some(Box::new(Watch {
            lo,
            hi,
            first_page,
            listed,
            hit: false,
            span: None,
        }));
    }

    pub(crate) fn pages(&self) -> u64 {
        self.data.len() as u64 / PAGE_SIZE
    }

    /// Whether the limits let this memory grow by `delta` pages when the store has `room` bytes left.
    pub(crate) fn may_grow(&self, delta: u64, room: u64) -> bool {
        self.pages()
            .checked_add(delta)
            .is_some_and(|new| new <= self.max_pages)
            && delta
                .checked_mul(PAGE_SIZE)
                .is_some_and(|bytes| bytes <= room)
    }

    /// Grows by `delta` pages when that adds at most `room` bytes and the host can allocate them; returns the old
    /// size in pages, or `None` if not allowed.
    pub(crate) fn grow(&mut self, delta: u64, room: u64) -> Option<u64> {
        if !self.may_grow(delta, room) {
            return None;
        }
        let (old, new) = (self.pages(), self.pages() + delta);
        try_resize(&mut self.data, usize::try_from(new * PAGE_SIZE).ok()?, 0)?;
        Some(old)
    }
}

/// Resizes `v` to `len`, filling with `fill`, or `None` (and `v` unchanged) when the host cannot allocate it.
fn try_resize<T: Copy>(v: &mut Vec<T>, len: usize, fill: T) -> Option<()> {
    let additional = len.saturating_sub(v.len());
    // Amortized growth first; the exact size when the host cannot give twice as much.
    if v.try_reserve(additional).is_err() {
        v.try_reserve_exact(additional).ok()?;
    }
    v.resize(len, fill);
    Some(())
}

/// `len` zero bytes, or `None` when the host cannot allocate them. The allocator zeroes them (as `calloc`), so
/// pages nobody writes take no resident memory.
#[allow(unsafe_code)]
pub(crate) fn try_zeroed(len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (`len > 0`).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of `len` bytes (alignment 1), which is the
    // layout of a `Vec<u8>` of capacity `len`; all `len` bytes are initialized (zeroed), and nothing else owns them.
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

#[derive(Debug, Clone)]
pub(crate) struct TableInst {
    pub(crate) ty: TableType,
    /// Reference cells: 0 is null, otherwise index + 1.
    pub(crate) elems: Vec<u64>,
    pub(crate) max: u64,
}

impl TableInst {
    /// Whether the limits let this table grow by `delta` elements when the store has `room` elements left.
    pub(crate) fn may_grow(&self, delta: u64, room: u64) -> bool {
        (self.elems.len() as u64)
            .checked_add(delta)
            .is_some_and(|new| new <= self.max)
            && delta <= room
    }

    /// Grows by `delta` elements set to `init` when that adds at most `room` elements and the host can allocate
    /// them; returns the old size, or `None` if not allowed.
    pub(crate) fn grow(&mut self, delta: u64, init: u64, room: u64) -> Option<u64> {
        if !self.may_grow(delta, room) {
            return None;
        }
        let old = self.elems.len() as u64;
        let new = old + delta;
        try_resize(&mut self.elems, usize::try_from(new).ok()?, init)?;
        Some(old)
    }
}

/// Bytes of linear memory over `memories`.
pub(crate) fn memory_bytes(memories: &[MemoryInst]) -> u64 {
    memories.iter().map(|m| m.data.len() as u64).sum()
}

/// Elements over `tables`.
pub(crate) fn table_elements(tables: &[TableInst]) -> u64 {
    tables.iter().map(|t| t.elems.len() as u64).sum()
}

#[derive(Debug, Clone)]
pub(crate) struct GlobalInst {
    pub(crate) ty: GlobalType,
    pub(crate) value: u128,
}

#[derive(Debug, Clone)]
pub(crate) struct DataInst {
    pub(crate) dropped: bool,
}

/// One Wasm call frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Frame {
    /// The store function being executed.
    pub(crate) func: u32,
    pub(crate) instance: u32,
    /// Index of the body among the module's defined functions.
    pub(crate) body: u32,
    /// Next op to execute (for callers: the op after the call).
    pub(crate) pc: u32,
    /// Stack index of the first local.
    pub(crate) fp: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Status {
    /// No call in progress.
    #[default]
    Idle,
    /// A call was invoked and has not started.
    Pending(u32),
    /// Paused at an instruction boundary: `run` continues.
    Paused,
    /// Waiting for the results of a host function.
    InHost(u32),
}

/// The execution state of a call in progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExecState {
    pub(crate) stack: Vec<u64>,
    pub(crate) sp: usize,
    pub(crate) frames: Vec<Frame>,
    pub(crate) status: Status,
    /// Result types of the outermost call.
    pub(crate) results: Vec<ValType>,
    /// Fuel consumed since the store was created.
    pub(crate) consumed: u64,
    /// Fuel already paid towards the bulk op the call is paused at, which a budget too small for all of it paused
    /// before (`Config::bulk_fuel_unit`); 0 everywhere else.
    pub(crate) prepaid: u64,
}

/// What a run came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The call returned these results.
    Finished(Vec<Val>),
    /// Guest code trapped; the call is over.
    Trapped(Trap),
    /// The fuel ran out at an instruction boundary; `run` again continues.
    OutOfFuel,
    /// Guest code called a host function; answer with `host_return` (or `host_trap`), then `run` again.
    HostCall(HostCall),
}

/// A call from guest code to a host function.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCall {
    pub func: Func,
    pub host_id: u32,
    pub args: Vec<Val>,
}

/// One frame of a paused run, for debuggers.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameView {
    pub func_index: u32,
    /// Module byte offset of the next instruction (for callers: of the call).
    pub offset: usize,
    pub instance: Instance,
    /// Parameters, then declared locals.
    pub locals: Vec<Val>,
    /// The frame's operand stack as raw 64-bit cells, bottom first (a v128 takes two).
    pub operands: Vec<u64>,
}

/// A paused position: which function and which instruction.
pub type Position = FrameInfo;

/// Owns all runtime state; everything in it is plain data.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncInst>,
    pub(crate) instances: Vec<InstanceData>,
    pub(crate) memories: Vec<MemoryInst>,
    pub(crate) tables: Vec<TableInst>,
    pub(crate) globals: Vec<GlobalInst>,
    /// Element segment instances as reference cells; a dropped segment is empty.
    pub(crate) elems: Vec<Vec<u64>>,
    pub(crate) datas: Vec<DataInst>,
    pub(crate) exec: ExecState,
    /// Edge hit counts of every instance (instrumentation, not execution state: not in snapshots).
    pub(crate) coverage: Vec<u8>,
    /// Hits of each edge past the 255 its `coverage` cell holds, so that [`Store::edge_hits`] is exact; grown only
    /// when a cell is full (instrumentation, like `coverage`).
    pub(crate) coverage_overflow: Vec<u64>,
    /// Comparison operands logged since the last `clear_cmp_log` (instrumentation).
    pub(crate) cmp_log: Vec<CmpValues>,
    /// Set when the last `run` came back early at a breakpoint or a watched write (debugger hooks).
    pub(crate) stopped: Option<Stopped>,
    /// The sanitizer's shadow memory and heap records, once an instrumented module is instantiated
    /// (`Config::sanitize`). Execution state: in snapshots, rewound by `reset_to`.
    pub(crate) sanitizer: Option<Box<Sanitizer>>,
}

/// A debugger hook that ended a run early (reported as [`Outcome::OutOfFuel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    Breakpoint,
    Watch,
}

/// Most comparisons logged between two `clear_cmp_log` calls.
pub const CMP_LOG_LIMIT: usize = 1 << 14;

/// The operands of one logged comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CmpValues {
    W32(u32, u32),
    W64(u64, u64),
    /// Up to 32 leading bytes of each operand of a `memcmp`-like call.
    Bytes(Vec<u8>, Vec<u8>),
}

impl Store {
    pub fn new(engine: &Engine) -> Store {
        Store {
            engine: engine.clone(),
            funcs: Vec::new(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            exec: ExecState::default(),
            coverage: Vec::new(),
            coverage_overflow: Vec::new(),
            cmp_log: Vec::new(),
            stopped: None,
            sanitizer: None,
        }
    }

    /// Whether the sanitizer watches this store: an instrumented module was instantiated in it.
    pub fn sanitizer_active(&self) -> bool {
        self.sanitizer.is_some()
    }

    /// The sanitizer's shadow bytes, one per 8 bytes of the sanitized memory (see [`crate::sanitizer::poison`]).
    pub fn sanitizer_shadow(&self) -> Option<&[u8]> {
        self.sanitizer.as_ref().map(|s| s.shadow())
    }

    /// The heap block containing `addr` or nearest to it (live, or freed and still in quarantine), with the
    /// backtraces of its allocation and free.
    pub fn sanitizer_block_at(&self, addr: u64) -> Option<BlockState> {
        let san = self.sanitizer.as_ref()?;
        san.block_at(addr, &|raw| self.resolve_frames(raw))
    }

    /// The blocks allocated since `baseline` (a copy of this store from earlier) and still live: leaks of the
    /// input run since, each with its allocation backtrace.
    pub fn sanitizer_leaks(&self, baseline: &Store) -> Vec<BlockReport> {
        match (&self.sanitizer, &baseline.sanitizer) {
            (Some(now), Some(then)) => now.leaks_since(then, &|raw| self.resolve_frames(raw)),
            (Some(now), None) => {
                now.leaks_since(&Sanitizer::default(), &|raw| self.resolve_frames(raw))
            }
            _ => Vec::new(),
        }
    }

    /// Backtrace positions of frames the sanitizer recorded.
    pub(crate) fn resolve_frames(&self, raw: &[RawFrame]) -> Vec<FrameInfo> {
        resolve_frames(&self.instances, raw)
    }

    /// Edge hit counts (saturating at 255) of every instance, each module's edges from its instance's base.
    pub fn coverage(&self) -> &[u8] {
        &self.coverage
    }

    pub fn coverage_mut(&mut self) -> &mut [u8] {
        &mut self.coverage
    }

    /// Exact edge hit counts since the last [`Store::clear_coverage`], indexed as `coverage` (whose cells stop at
    /// 255); hits the map's cells lost to writes through `coverage_mut` are not in them.
    pub fn edge_hits(&self) -> Vec<u64> {
        self.coverage
            .iter()
            .enumerate()
            .map(|(i, &c)| u64::from(c) + self.coverage_overflow.get(i).copied().unwrap_or(0))
            .collect()
    }

    /// Sets every edge's hit count to 0.
    pub fn clear_coverage(&mut self) {
        self.coverage.fill(0);
        self.coverage_overflow.fill(0);
    }

    /// Index in `coverage` of an instance's first edge.
    pub fn coverage_base(&self, i: Instance) -> u32 {
        self.instances[i.0 as usize].cov_base
    }

    /// Comparison operands logged since the last `clear_cmp_log` (at most `CMP_LOG_LIMIT`).
    pub fn cmp_log(&self) -> &[CmpValues] {
        &self.cmp_log
    }

    pub fn clear_cmp_log(&mut self) {
        self.cmp_log.clear();
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Defines a host function: calls to it pause the run with `Outcome::HostCall` carrying `host_id`.
    pub fn new_host_func(&mut self, ty: FuncType, host_id: u32) -> Func {
        let (type_id, ty) = self.engine.intern_type(&ty);
        self.funcs.push(FuncInst::Host {
            host_id,
            type_id,
            ty,
        });
        Func(self.funcs.len() as u32 - 1)
    }

    /// Bytes of linear memory over all memories of the store.
    pub fn memory_bytes(&self) -> u64 {
        memory_bytes(&self.memories)
    }

    /// Elements over all tables of the store.
    pub fn table_elements(&self) -> u64 {
        table_elements(&self.tables)
    }

    /// Creates a memory of `ty`'s minimum size. Passing the engine's limits (per memory or in total for the store)
    /// or the host's memory is the trap `ResourceExhausted`, inside `Error::Instantiation`.
    pub fn new_memory(&mut self, ty: MemoryType) -> Result<Memory, Error> {
        let config = self.engine.config();
        let exhausted =
            || Error::Instantiation(Trap::new(TrapKind::ResourceExhausted(Resource::Memory)));
        let max_pages = ty
            .limits
            .max
            .unwrap_or(u64::MAX)
            .min(ty.max_pages_by_index())
            .min(config.max_bytes_per_memory / PAGE_SIZE);
        let room = config.max_memory_bytes.saturating_sub(self.memory_bytes());
        if ty.limits.min > max_pages || ty.limits.min.saturating_mul(PAGE_SIZE) > room {
            return Err(exhausted());
        }
        let bytes = usize::try_from(ty.limits.min * PAGE_SIZE).map_err(|_| exhausted())?;
        let data = try_zeroed(bytes).ok_or_else(exhausted)?;
        self.memories.push(MemoryInst {
            ty,
            data,
            max_pages,
            dirty: config.track_dirty_pages.then(DirtyPages::default),
        });
        Ok(Memory(self.memories.len() as u32 - 1))
    }

    /// Creates a table of `ty`'s minimum size holding `init`. Passing the engine's limits (per table or in total
    /// for the store) or the host's memory is the trap `ResourceExhausted`, inside `Error::Instantiation`.
    pub fn new_table(&mut self, ty: TableType, init: Val) -> Result<Table, Error> {
        if init.ty() != ty.element {
            return Err(Error::Call(format!(
                "table of {} initialized with {}",
                ty.element,
                init.ty()
            )));
        }
        let exhausted = || {
            Error::Instantiation(Trap::new(TrapKind::ResourceExhausted(
                Resource::TableElements,
            )))
        };
        let config = self.engine.config();
        let index_max = if ty.table64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let max = ty
            .limits
            .max
            .unwrap_or(u64::MAX)
            .min(index_max)
            .min(config.max_elements_per_table);
        let room = config
            .max_table_elements
            .saturating_sub(self.table_elements());
        if ty.limits.min > max || ty.limits.min > room {
            return Err(exhausted());
        }
        let cell = self.val_to_cell(init)?;
        let len = usize::try_from(ty.limits.min).map_err(|_| exhausted())?;
        let mut elems = Vec::new();
        try_resize(&mut elems, len, cell).ok_or_else(exhausted)?;
        self.tables.push(TableInst { ty, elems, max });
        Ok(Table(self.tables.len() as u32 - 1))
    }

    pub fn new_global(&mut self, ty: GlobalType, init: Val) -> Result<Global, Error> {
        if init.ty() != ty.content {
            return Err(Error::Call(format!(
                "global of {} initialized with {}",
                ty.content,
                init.ty()
            )));
        }
        self.check_ref(init)?;
        self.globals.push(GlobalInst {
            ty,
            value: init.to_raw(),
        });
        Ok(Global(self.globals.len() as u32 - 1))
    }

    fn check_ref(&self, v: Val) -> Result<(), Error> {
        if let Val::FuncRef(Some(f)) = v
            && f.0 as usize >= self.funcs.len()
        {
            return Err(Error::Call(format!(
                "function {} is not in this store",
                f.0
            )));
        }
        Ok(())
    }

    fn val_to_cell(&self, v: Val) -> Result<u64, Error> {
        self.check_ref(v)?;
        Ok(v.to_raw() as u64)
    }

    pub fn func_type(&self, f: Func) -> &FuncType {
        self.funcs[f.0 as usize].ty()
    }

    pub fn global_type(&self, g: Global) -> GlobalType {
        self.globals[g.0 as usize].ty
    }

    pub fn global_get(&self, g: Global) -> Val {
        let g = &self.globals[g.0 as usize];
        Val::from_raw(g.ty.content, g.value)
    }

    pub fn global_set(&mut self, g: Global, v: Val) -> Result<(), Error> {
        self.check_ref(v)?;
        let g = &mut self.globals[g.0 as usize];
        if !g.ty.mutable || v.ty() != g.ty.content {
            return Err(Error::Call("global is immutable or of another type".into()));
        }
        g.value = v.to_raw();
        Ok(())
    }

    pub fn memory_type(&self, m: Memory) -> MemoryType {
        let mem = &self.memories[m.0 as usize];
        MemoryType {
            limits: Limits {
                min: mem.pages(),
                max: mem.ty.limits.max,
            },
            memory64: mem.ty.memory64,
        }
    }

    pub fn memory_data(&self, m: Memory) -> &[u8] {
        &self.memories[m.0 as usize].data
    }

    /// The whole memory, writable. With dirty-page tracking, every page counts as written (the store cannot see
    /// what the caller changes): prefer `write_memory` for small writes.
    pub fn memory_data_mut(&mut self, m: Memory) -> &mut [u8] {
        let mem = &mut self.memories[m.0 as usize];
        let len = mem.data.len();
        mem.mark_dirty(0, len);
        &mut mem.data
    }

    /// Writes `bytes` at `offset`, marking only the pages written as dirty.
    pub fn write_memory(&mut self, m: Memory, offset: u64, bytes: &[u8]) -> Result<(), Error> {
        let mem = &mut self.memories[m.0 as usize];
        let start = usize::try_from(offset)
            .ok()
            .filter(|&s| {
                s.checked_add(bytes.len())
                    .is_some_and(|e| e <= mem.data.len())
            })
            .ok_or_else(|| {
                Error::Call(format!(
                    "write of {} bytes at {offset} is out of bounds",
                    bytes.len()
                ))
            })?;
        mem.data[start..start + bytes.len()].copy_from_slice(bytes);
        mem.mark_dirty(start, bytes.len());
        Ok(())
    }

    /// Grows a memory by `delta` pages; returns the old size in pages.
    pub fn memory_grow(&mut self, m: Memory, delta: u64) -> Option<u64> {
        let room = self
            .engine
            .config()
            .max_memory_bytes
            .saturating_sub(self.memory_bytes());
        let grown = self.memories[m.0 as usize].grow(delta, room);
        let len = self.memories[m.0 as usize].data.len();
        if let Some(san) = self.sanitizer.as_deref_mut().filter(|s| s.memory == m.0) {
            san.grow(len);
        }
        grown
    }

    pub fn table_type(&self, t: Table) -> TableType {
        let table = &self.tables[t.0 as usize];
        TableType {
            limits: Limits {
                min: table.elems.len() as u64,
                max: table.ty.limits.max,
            },
            ..table.ty
        }
    }

    pub fn table_size(&self, t: Table) -> u64 {
        self.tables[t.0 as usize].elems.len() as u64
    }

    pub fn table_get(&self, t: Table, index: u64) -> Option<Val> {
        let table = &self.tables[t.0 as usize];
        let cell = *table.elems.get(usize::try_from(index).ok()?)?;
        Some(Val::from_raw(table.ty.element, u128::from(cell)))
    }

    /// The type of an extern as it is now (current sizes as minimums).
    pub fn extern_type(&self, e: Extern) -> ExternType {
        match e {
            Extern::Func(f) => ExternType::Func(self.func_type(f).clone()),
            Extern::Table(t) => ExternType::Table(self.table_type(t)),
            Extern::Memory(m) => ExternType::Memory(self.memory_type(m)),
            Extern::Global(g) => ExternType::Global(self.global_type(g)),
        }
    }

    /// The globals of an instance, in its global index space (imported ones first).
    pub fn instance_globals(&self, i: Instance) -> Vec<Global> {
        self.instances[i.0 as usize]
            .globals
            .iter()
            .map(|&g| Global(g))
            .collect()
    }

    /// The distinct modules instantiated in this store (what `Store::restore` needs back).
    pub fn modules(&self) -> Vec<Module> {
        let mut out: Vec<Module> = Vec::new();
        for inst in &self.instances {
            if !out.iter().any(|m| m.hash() == inst.module.hash()) {
                out.push(inst.module.clone());
            }
        }
        out
    }

    pub fn instance_module(&self, i: Instance) -> &Module {
        &self.instances[i.0 as usize].module
    }

    /// The start function, which `instantiate` does not run.
    pub fn instance_start(&self, i: Instance) -> Option<Func> {
        let inst = &self.instances[i.0 as usize];
        inst.module
            .inner
            .start
            .map(|s| Func(inst.funcs[s as usize]))
    }

    pub fn instance_export(&self, i: Instance, name: &str) -> Option<Extern> {
        let inst = &self.instances[i.0 as usize];
        let (_, kind, index) = inst
            .module
            .inner
            .exports
            .iter()
            .find(|(n, _, _)| n == name)?;
        Some(Self::resolve_export(inst, *kind, *index))
    }

    pub fn instance_exports(&self, i: Instance) -> Vec<(String, Extern)> {
        let inst = &self.instances[i.0 as usize];
        inst.module
            .inner
            .exports
            .iter()
            .map(|(n, kind, index)| (n.clone(), Self::resolve_export(inst, *kind, *index)))
            .collect()
    }

    fn resolve_export(inst: &InstanceData, kind: wasmparser::ExternalKind, index: u32) -> Extern {
        use wasmparser::ExternalKind as K;
        let i = index as usize;
        match kind {
            K::Table => Extern::Table(Table(inst.tables[i])),
            K::Memory => Extern::Memory(Memory(inst.memories[i])),
            K::Global => Extern::Global(Global(inst.globals[i])),
            K::Func | K::FuncExact | K::Tag => Extern::Func(Func(inst.funcs[i])),
        }
    }

    /// Allocates an instance of `module` with `imports` (in the module's import order) and initializes its
    /// tables and memories from the active segments. The start function is not run: see `instance_start`.
    pub fn instantiate(&mut self, module: &Module, imports: &[Extern]) -> Result<Instance, Error> {
        let marks = (
            self.funcs.len(),
            self.tables.len(),
            self.memories.len(),
            self.globals.len(),
            self.elems.len(),
            self.datas.len(),
            self.coverage.len(),
        );
        let instances = self.instances.len();
        let result = self.instantiate_inner(module, imports);
        if result.is_err() && self.instances.len() == instances {
            // Failed before the instance existed: nothing it allocated may stay behind, half-made.
            self.funcs.truncate(marks.0);
            self.tables.truncate(marks.1);
            self.memories.truncate(marks.2);
            self.globals.truncate(marks.3);
            self.elems.truncate(marks.4);
            self.datas.truncate(marks.5);
            self.coverage.truncate(marks.6);
            self.coverage_overflow.truncate(marks.6);
        }
        result
    }

    fn instantiate_inner(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        let m = &module.inner;
        if !m.engine.same(&self.engine) {
            return Err(Error::Link("module was compiled for another engine".into()));
        }
        if imports.len() != m.imports.len() {
            return Err(Error::Link(format!(
                "module needs {} imports, {} given",
                m.imports.len(),
                imports.len()
            )));
        }
        let inst_index = self.instances.len() as u32;
        let cov_base = self.coverage.len() as u32;
        self.coverage
            .resize(self.coverage.len() + m.num_edges as usize, 0);
        let mut data = InstanceData {
            module: module.clone(),
            cov_base,
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
        };
        for (import, ext) in m.imports.iter().zip(imports) {
            self.check_import(import, ext)?;
            match *ext {
                Extern::Func(f) => data.funcs.push(f.0),
                Extern::Table(t) => data.tables.push(t.0),
                Extern::Memory(mm) => data.memories.push(mm.0),
                Extern::Global(g) => data.globals.push(g.0),
            }
        }
        // One function per defined function: bodies past those are the sanitizer's moved allocator functions.
        let defined = m.func_types.len() - m.num_imported_funcs as usize;
        for body in m.bodies.iter().take(defined) {
            let ty_index = m.func_types[body.func_index as usize] as usize;
            self.funcs.push(FuncInst::Wasm {
                instance: inst_index,
                func_index: body.func_index,
                type_id: m.type_ids[ty_index],
                ty: m.types[ty_index].clone(),
            });
            data.funcs.push(self.funcs.len() as u32 - 1);
        }
        for (i, ty) in m
            .globals
            .iter()
            .enumerate()
            .skip(m.num_imported_globals as usize)
        {
            let value = self.eval_const(&data, &m.global_inits[i])?;
            let g = self.new_global(*ty, Val::from_raw(ty.content, value))?;
            data.globals.push(g.0);
        }
        for (ty, init) in m.tables.iter().skip(m.num_imported_tables as usize) {
            let init = match init {
                Some(expr) => Val::from_raw(ty.element, self.eval_const(&data, expr)?),
                None => Val::default_for(ty.element),
            };
            let t = self.new_table(*ty, init)?;
            data.tables.push(t.0);
        }
        for ty in m.memories.iter().skip(m.num_imported_memories as usize) {
            let mem = self.new_memory(*ty)?;
            data.memories.push(mem.0);
        }
        for seg in &m.elems {
            let items = match seg.mode {
                SegmentMode::Declared => Vec::new(),
                _ => seg
                    .items
                    .iter()
                    .map(|e| self.eval_const(&data, e).map(|v| v as u64))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            self.elems.push(items);
            data.elems.push(self.elems.len() as u32 - 1);
        }
        for _ in &m.datas {
            self.datas.push(DataInst { dropped: false });
            data.datas.push(self.datas.len() as u32 - 1);
        }
        // Active segments, in order; a failing one leaves the earlier writes in place, as the spec says.
        let mut active = Vec::new();
        for (i, seg) in m.elems.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = &seg.mode {
                active.push((true, i, *index, self.eval_const(&data, offset)? as u64));
            }
        }
        for (i, seg) in m.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = &seg.mode {
                active.push((false, i, *index, self.eval_const(&data, offset)? as u64));
            }
        }
        let elem_ids = data.elems.clone();
        let data_ids = data.datas.clone();
        let tables = data.tables.clone();
        let memories = data.memories.clone();
        if module.engine().config().sanitize
            && self.sanitizer.is_none()
            && let Some(&mem) = data.memories.first()
        {
            let sp = m
                .sanitized
                .stack_pointer
                .and_then(|g| data.globals.get(g as usize).copied())
                .map(|g| (g, self.globals[g as usize].value as u32));
            let len = self.memories[mem as usize].data.len();
            self.sanitizer = Some(Box::new(Sanitizer::new(mem, len, sp)));
        }
        self.instances.push(data);
        for (is_elem, seg, target, offset) in active {
            if is_elem {
                let items = std::mem::take(&mut self.elems[elem_ids[seg] as usize]);
                let table = &mut self.tables[tables[target as usize] as usize];
                let dst = usize::try_from(offset)
                    .ok()
                    .filter(|&d| {
                        d.checked_add(items.len())
                            .is_some_and(|end| end <= table.elems.len())
                    })
                    .ok_or_else(|| Error::Instantiation(Trap::new(TrapKind::TableOutOfBounds)))?;
                table.elems[dst..dst + items.len()].copy_from_slice(&items);
            } else {
                let bytes = &m.datas[seg].bytes;
                let mem = &mut self.memories[memories[target as usize] as usize];
                let dst = usize::try_from(offset)
                    .ok()
                    .filter(|&d| {
                        d.checked_add(bytes.len())
                            .is_some_and(|end| end <= mem.data.len())
                    })
                    .ok_or_else(|| Error::Instantiation(Trap::new(TrapKind::MemoryOutOfBounds)))?;
                mem.data[dst..dst + bytes.len()].copy_from_slice(bytes);
                self.datas[data_ids[seg] as usize].dropped = true;
            }
        }
        Ok(Instance(inst_index))
    }

    fn check_import(&self, import: &crate::module::Import, ext: &Extern) -> Result<(), Error> {
        let have = self.extern_type(*ext);
        let ok = match (&import.ty, &have) {
            (ExternType::Func(want), ExternType::Func(have)) => want == have,
            (ExternType::Table(want), ExternType::Table(have)) => {
                want.element == have.element
                    && want.table64 == have.table64
                    && have.limits.matches(&want.limits)
            }
            (ExternType::Memory(want), ExternType::Memory(have)) => {
                want.memory64 == have.memory64 && have.limits.matches(&want.limits)
            }
            (ExternType::Global(want), ExternType::Global(have)) => want == have,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Link(format!(
                "incompatible import type for {}.{}: expected {} {:?}, got {:?}",
                import.module,
                import.name,
                import.ty.kind_name(),
                import.ty,
                have
            )))
        }
    }

    fn eval_const(&self, inst: &InstanceData, expr: &[ConstOp]) -> Result<u128, Error> {
        let mut stack: Vec<u128> = Vec::new();
        let bad = || Error::Validation("malformed constant expression".into());
        for op in expr {
            let v = match *op {
                ConstOp::I32(v) => u128::from(v as u32),
                ConstOp::I64(v) => u128::from(v as u64),
                ConstOp::F32(v) => u128::from(v),
                ConstOp::F64(v) => u128::from(v),
                ConstOp::V128(v) => v,
                ConstOp::RefNull => 0,
                ConstOp::RefFunc(f) => u128::from(*inst.funcs.get(f as usize).ok_or_else(bad)?) + 1,
                ConstOp::GlobalGet(g) => {
                    self.globals[*inst.globals.get(g as usize).ok_or_else(bad)? as usize].value
                }
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let b = stack.pop().ok_or_else(bad)? as u32;
                    let a = stack.pop().ok_or_else(bad)? as u32;
                    u128::from(match op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let b = stack.pop().ok_or_else(bad)? as u64;
                    let a = stack.pop().ok_or_else(bad)? as u64;
                    u128::from(match op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
            };
            stack.push(v);
        }
        stack.pop().ok_or_else(bad)
    }

    /// Begins a call of `f` with `args`; `run` executes it.
    pub fn invoke(&mut self, f: Func, args: &[Val]) -> Result<(), Error> {
        if self.exec.status != Status::Idle {
            return Err(Error::Call("a call is already in progress".into()));
        }
        let ty = self
            .funcs
            .get(f.0 as usize)
            .ok_or_else(|| Error::Call(format!("no function {} in this store", f.0)))?
            .ty()
            .clone();
        if ty.params().len() != args.len()
            || ty.params().iter().zip(args).any(|(t, a)| *t != a.ty())
        {
            return Err(Error::Call(format!(
                "arguments {:?} do not match the function type {ty}",
                args.iter().map(|a| a.ty()).collect::<Vec<_>>()
            )));
        }
        for a in args {
            self.check_ref(*a)?;
        }
        self.exec.stack.clear();
        for a in args {
            push_val(&mut self.exec.stack, *a);
        }
        self.exec.sp = self.exec.stack.len();
        self.exec.frames.clear();
        self.exec.results = ty.results().to_vec();
        self.exec.status = Status::Pending(f.0);
        self.exec.prepaid = 0;
        Ok(())
    }

    /// A call ended early: no allocator wrapper is running any more.
    fn call_ended(&mut self) {
        if let Some(san) = &mut self.sanitizer {
            san.depth = 0;
        }
    }

    /// Whether a call is in progress (paused, pending or waiting for a host function).
    pub fn is_running(&self) -> bool {
        self.exec.status != Status::Idle
    }

    /// Runs the call in progress with a budget of `fuel` instructions.
    pub fn run(&mut self, fuel: u64) -> Outcome {
        let mut fuel_left = fuel;
        let outcome = self.run_inner(&mut fuel_left);
        self.exec.consumed += fuel - fuel_left;
        outcome
    }

    fn run_inner(&mut self, fuel: &mut u64) -> Outcome {
        match self.exec.status {
            Status::Idle => {
                return Outcome::Trapped(Trap::new(TrapKind::Host("no call in progress".into())));
            }
            Status::InHost(_) => {
                return Outcome::Trapped(Trap::new(TrapKind::Host(
                    "waiting for a host function's results".into(),
                )));
            }
            Status::Pending(f) => {
                self.exec.status = Status::Paused;
                match exec::enter(self, f) {
                    Ok(Some(call)) => return Outcome::HostCall(call),
                    Ok(None) => {}
                    Err(kind) => return Outcome::Trapped(self.trap(kind)),
                }
            }
            Status::Paused => {}
        }
        match exec::execute(self, fuel) {
            Ok(Exit::Finished) => {
                let mut at = 0;
                let results = std::mem::take(&mut self.exec.results)
                    .into_iter()
                    .map(|ty| {
                        let v = read_val(&self.exec.stack, at, ty);
                        at += ty.cells() as usize;
                        v
                    })
                    .collect();
                self.exec.status = Status::Idle;
                Outcome::Finished(results)
            }
            Ok(Exit::OutOfFuel) => Outcome::OutOfFuel,
            Ok(Exit::HostCall(call)) => Outcome::HostCall(call),
            Ok(Exit::Breakpoint) => {
                self.stopped = Some(Stopped::Breakpoint);
                Outcome::OutOfFuel
            }
            Ok(Exit::Watch) => {
                self.stopped = Some(Stopped::Watch);
                Outcome::OutOfFuel
            }
            Err(kind) => Outcome::Trapped(self.trap(kind)),
        }
    }

    /// Ends the call with a trap of `kind` at the current position.
    fn trap(&mut self, kind: TrapKind) -> Trap {
        let backtrace = self.backtrace();
        self.call_ended();
        self.exec.frames.clear();
        self.exec.status = Status::Idle;
        self.exec.prepaid = 0;
        Trap { kind, backtrace }
    }

    /// The Wasm call stack of the paused run, innermost frame first.
    pub fn backtrace(&self) -> Vec<FrameInfo> {
        let n = self.exec.frames.len();
        self.exec
            .frames
            .iter()
            .enumerate()
            .rev()
            .map(|(i, frame)| {
                let body = &self.instances[frame.instance as usize].module.inner.bodies
                    [frame.body as usize];
                // Callers have already moved past their call instruction.
                let pc = if i + 1 == n {
                    frame.pc
                } else {
                    frame.pc.saturating_sub(1)
                } as usize;
                let offset = body
                    .offsets
                    .get(pc)
                    .or(body.offsets.last())
                    .copied()
                    .unwrap_or(0) as usize;
                FrameInfo {
                    func_index: body.func_index,
                    offset,
                }
            })
            .collect()
    }

    /// The frames of the paused run, innermost first, with their locals and operand stacks.
    pub fn frames(&self) -> Vec<FrameView> {
        let exec = &self.exec;
        let n = exec.frames.len();
        let locations = self.backtrace();
        exec.frames
            .iter()
            .enumerate()
            .rev()
            .zip(locations)
            .map(|((i, frame), at)| {
                let body = &self.instances[frame.instance as usize].module.inner.bodies
                    [frame.body as usize];
                let fp = frame.fp as usize;
                let mut cell = fp;
                let locals = body
                    .local_types
                    .iter()
                    .map(|&ty| {
                        let v = read_val(&exec.stack, cell, ty);
                        cell += ty.cells() as usize;
                        v
                    })
                    .collect();
                let operands_start = fp + body.local_cells as usize;
                let operands_end = if i + 1 == n {
                    exec.sp
                } else {
                    exec.frames[i + 1].fp as usize
                };
                FrameView {
                    func_index: at.func_index,
                    offset: at.offset,
                    instance: Instance(frame.instance),
                    locals,
                    operands: exec
                        .stack
                        .get(operands_start..operands_end.max(operands_start))
                        .unwrap_or(&[])
                        .to_vec(),
                }
            })
            .collect()
    }

    /// Number of Wasm frames of the call in progress.
    pub fn depth(&self) -> usize {
        self.exec.frames.len()
    }

    /// Where the op just executed by the innermost frame comes from (the call op while a host call is answered).
    pub(crate) fn previous_op_location(&self) -> Option<FrameInfo> {
        let frame = self.exec.frames.last()?;
        let body =
            &self.instances[frame.instance as usize].module.inner.bodies[frame.body as usize];
        let pc = (frame.pc as usize).checked_sub(1)?;
        Some(FrameInfo {
            func_index: body.func_index,
            offset: body.offsets.get(pc).copied().unwrap_or(0) as usize,
        })
    }

    /// Where the paused run stands, if a call is in progress.
    pub fn position(&self) -> Option<Position> {
        self.backtrace().into_iter().next()
    }

    /// Instructions executed in this store so far.
    pub fn fuel_consumed(&self) -> u64 {
        self.exec.consumed
    }

    /// Number of 4 KiB memory pages written since dirty tracking was last cleared (0 without tracking).
    pub fn dirty_pages(&self) -> usize {
        self.memories
            .iter()
            .filter_map(|m| m.dirty.as_ref())
            .map(|d| d.list.len())
            .sum()
    }

    /// Forgets which pages were written: the current state becomes the baseline that `reset_to` returns to.
    pub fn clear_dirty(&mut self) {
        for m in &mut self.memories {
            m.clear_dirty();
        }
        if let Some(san) = &mut self.sanitizer {
            san.clear_dirty();
        }
    }

    /// Makes a baseline to reset to: clears the dirty marks and returns a copy of the store as it is now.
    pub fn baseline(&mut self) -> Store {
        self.clear_dirty();
        self.clone()
    }

    /// Returns to `baseline` (made by `baseline()` on this store) copying back only the memory pages written since,
    /// plus globals, tables, segments, memory sizes and the execution state.
    pub fn reset_to(&mut self, baseline: &Store) -> Result<(), Error> {
        if self.memories.len() != baseline.memories.len()
            || self.instances.len() != baseline.instances.len()
            || self.funcs.len() != baseline.funcs.len()
            || self.memories.iter().any(|m| m.dirty.is_none())
        {
            return Err(Error::Call(
                "reset_to needs a baseline of this store and an engine that tracks dirty pages"
                    .into(),
            ));
        }
        for (m, base) in self.memories.iter_mut().zip(&baseline.memories) {
            let dirty = m.dirty.as_mut().expect("checked above");
            m.data.resize(base.data.len(), 0);
            for &page in &dirty.list {
                dirty.bits[page as usize / 64] = 0;
                let start = (page as usize) << DIRTY_PAGE_SHIFT;
                if start < base.data.len() {
                    let end = (start + (1 << DIRTY_PAGE_SHIFT)).min(base.data.len());
                    m.data[start..end].copy_from_slice(&base.data[start..end]);
                }
            }
            dirty.list.clear();
            if let Some(watch) = &mut dirty.watch {
                watch.listed.fill(false);
            }
        }
        for (g, base) in self.globals.iter_mut().zip(&baseline.globals) {
            g.value = base.value;
        }
        for (t, base) in self.tables.iter_mut().zip(&baseline.tables) {
            t.elems.clone_from(&base.elems);
        }
        self.elems.clone_from(&baseline.elems);
        self.datas.clone_from(&baseline.datas);
        match (&mut self.sanitizer, &baseline.sanitizer) {
            (Some(san), Some(base)) => san.reset_to(base),
            (san, base) => san.clone_from(base),
        }
        let exec = &mut self.exec;
        let base = &baseline.exec;
        exec.stack.clear();
        exec.stack
            .extend_from_slice(&base.stack[..base.sp.min(base.stack.len())]);
        exec.stack.resize(base.stack.len(), 0);
        exec.sp = base.sp;
        exec.frames.clone_from(&base.frames);
        exec.status = base.status.clone();
        exec.results.clone_from(&base.results);
        exec.consumed = base.consumed;
        exec.prepaid = base.prepaid;
        Ok(())
    }

    /// The host call the run is waiting on, rebuilt from the arguments still on the stack (also after a restore).
    pub fn pending_host_call(&self) -> Option<HostCall> {
        let Status::InHost(f) = self.exec.status else {
            return None;
        };
        let FuncInst::Host { host_id, ty, .. } = &self.funcs[f as usize] else {
            return None;
        };
        host_call_on_stack(&self.exec.stack, self.exec.sp, f, *host_id, ty)
    }

    /// Abandons the call in progress, if any: the store becomes idle, with memories and globals as they are.
    pub fn abort(&mut self) {
        self.call_ended();
        self.exec.frames.clear();
        self.exec.stack.clear();
        self.exec.sp = 0;
        self.exec.status = Status::Idle;
    }

    /// Answers the pending host call with its results.
    pub fn host_return(&mut self, results: &[Val]) -> Result<(), Error> {
        let Status::InHost(f) = self.exec.status else {
            return Err(Error::Call("no host call is waiting for results".into()));
        };
        let ty = self.funcs[f as usize].ty().clone();
        if ty.results().len() != results.len()
            || ty.results().iter().zip(results).any(|(t, r)| *t != r.ty())
        {
            return Err(Error::Call(format!(
                "host results do not match the function type {ty}"
            )));
        }
        for r in results {
            self.check_ref(*r)?;
        }
        // The arguments were left on the stack for the host: the results replace them.
        let mut sp = self.exec.sp - ty.param_cells() as usize;
        for r in results {
            let raw = r.to_raw();
            let cells = r.ty().cells() as usize;
            if self.exec.stack.len() < sp + cells {
                self.exec.stack.resize(sp + cells, 0);
            }
            self.exec.stack[sp] = raw as u64;
            if cells == 2 {
                self.exec.stack[sp + 1] = (raw >> 64) as u64;
            }
            sp += cells;
        }
        self.exec.sp = sp;
        self.exec.status = Status::Paused;
        Ok(())
    }

    /// Ends the pending host call with a trap, which gets the call's backtrace; the store becomes idle.
    pub fn host_trap(&mut self, kind: TrapKind) -> Trap {
        self.trap(kind)
    }
}

/// The call of host function `f` whose arguments are the top cells of the stack, below `sp`.
pub(crate) fn host_call_on_stack(
    stack: &[u64],
    sp: usize,
    f: u32,
    host_id: u32,
    ty: &FuncType,
) -> Option<HostCall> {
    let mut at = sp.checked_sub(ty.param_cells() as usize)?;
    let args = ty
        .params()
        .iter()
        .map(|&t| {
            let v = read_val(stack, at, t);
            at += t.cells() as usize;
            v
        })
        .collect();
    Some(HostCall {
        func: Func(f),
        host_id,
        args,
    })
}

pub(crate) fn push_val(stack: &mut Vec<u64>, v: Val) {
    let raw = v.to_raw();
    stack.push(raw as u64);
    if v.ty() == ValType::V128 {
        stack.push((raw >> 64) as u64);
    }
}

pub(crate) fn read_val(stack: &[u64], at: usize, ty: ValType) -> Val {
    let lo = u128::from(stack.get(at).copied().unwrap_or(0));
    let hi = if ty == ValType::V128 {
        u128::from(stack.get(at + 1).copied().unwrap_or(0))
    } else {
        0
    };
    Val::from_raw(ty, lo | (hi << 64))
}

/// Backtrace positions of recorded frames: the function and the module offset of the op each stands at.
pub(crate) fn resolve_frames(instances: &[InstanceData], raw: &[RawFrame]) -> Vec<FrameInfo> {
    raw.iter()
        .filter_map(|f| {
            let body = instances
                .get(f.instance as usize)?
                .module
                .inner
                .bodies
                .get(f.body as usize)?;
            let offset = body
                .offsets
                .get(f.pc as usize)
                .or(body.offsets.last())
                .copied()
                .unwrap_or(0) as usize;
            Some(FrameInfo {
                func_index: body.func_index,
                offset,
            })
        })
        .collect()
}
