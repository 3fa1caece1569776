//! Time travel over one run: a [`Timeline`] records a run as checkpoints (copies of the store that share every
//! unchanged 4 KiB memory page with their neighbours) and the host calls it answered, so that any earlier
//! instruction boundary can be reached again exactly — by restoring the nearest checkpoint before it and running
//! forward. Checkpoints are kept densely near the current position and ever more sparsely further away, under a
//! memory budget, whatever the length of the run.
//!
//! On top of that: stepping forwards and backwards by instruction, over calls and out of them; breakpoints on code
//! locations (a `Break` op patched into a copy of the code, so runs without breakpoints pay nothing); write
//! watches on memory bytes (the dirty-page tracker's slow path checks the watched range, and a write is judged by
//! the bytes it touched alone, whatever the size of the range); and the query "which instruction last wrote this
//! byte", answered by replaying the stretch between checkpoints with a watch.
//!
//! Positions are instructions executed (fuel consumed) since the recording began. The host must answer calls
//! deterministically from its own state, which every checkpoint keeps a copy of; the answers recorded the first
//! time are checked on every replay.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::HostCall;
pub use crate::drive::HostAnswer;
use crate::error::{Error, FrameInfo, Trap};
use crate::module::Module;
use crate::store::{
    DIRTY_PAGE_SHIFT, ExecState, GlobalInst, MemoryInst, Outcome, Status, Stopped, Store, TableInst,
};
use crate::value::{Memory, Val};

const PAGE: usize = 1 << DIRTY_PAGE_SHIFT;

/// Answers the host calls of a recorded run. Cloned into every checkpoint: `call` must give the same answer (and
/// make the same memory writes) whenever it is called from the same state.
pub trait Host: Clone {
    fn call(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer;

    /// A short name for host function `host_id`, for reports.
    fn name(&self, host_id: u32) -> String {
        format!("host function {host_id:#x}")
    }

    /// Approximate bytes this state holds, counted against the timeline's budget.
    fn size_hint(&self) -> usize {
        0
    }
}

/// How a recorded run ends.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// The call returned these values; the store is idle at the end position.
    Finished(Vec<Val>),
    /// The instruction at the end position traps (the store is paused just before it), or the host call answered
    /// at the end position trapped.
    Trapped(Trap),
    /// The host call at the end position ended the program with this code.
    Exited(i32),
    /// The run reached the timeline's instruction limit ([`TimelineConfig::max_instructions`]).
    OutOfFuel,
}

/// Why a timeline operation stopped where it did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// At the position asked for.
    Reached,
    /// At a breakpoint, before its instruction runs.
    Breakpoint(Breakpoint),
    /// Forwards: just after a write to the watched bytes; backwards: just before it.
    Watch(WatchHit),
    /// At the end of the run.
    End,
    /// At the beginning of the recording.
    Start,
}

/// A code location to stop at: the first instruction at or after `offset` (a module byte offset) in function
/// `func_index` of every module that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Breakpoint {
    pub func_index: u32,
    pub offset: u32,
}

/// What a watch looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Every write that touches the bytes.
    Write,
    /// Writes that change their value.
    Change,
    /// Every instruction that reads the bytes (host functions' reads are not seen). Runs one instruction at a
    /// time while set: much slower than write watches.
    Read,
    /// Reads and writes.
    Access,
}

/// A watch on `len` bytes of `memory` at `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watchpoint {
    pub memory: Memory,
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

/// Most bytes of the watched range a [`WatchHit`] carries.
pub const WATCH_WINDOW: u64 = 64;

/// An access to watched bytes, summed up: where the first changed byte is, how many changed, and a window of at most
/// [`WATCH_WINDOW`] bytes of the watched range around the first, before and after (the whole range when it is no
/// longer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchHit {
    /// Position just before the accessing instruction.
    pub position: u64,
    /// The accessing instruction (a call instruction when a host function wrote).
    pub location: Option<FrameInfo>,
    /// The host function that wrote, when it was not a Wasm instruction.
    pub host: Option<String>,
    /// A write (false: a read, for `Read` and `Access` watches).
    pub write: bool,
    /// The first watched byte that changed; for a read, or a write that changed nothing, the first watched byte it
    /// touched.
    pub addr: u64,
    /// How many watched bytes changed (0 for a read, and for a write of the values they already held).
    pub changed: u64,
    /// The address of the first byte of `old` and `new`.
    pub window: u64,
    /// The window's bytes before the access.
    pub old: Vec<u8>,
    /// The window's bytes after it.
    pub new: Vec<u8>,
}

/// A host call as first answered.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRecord {
    pub position: u64,
    pub call: HostCall,
    pub answer: HostAnswer,
}

/// Tuning of a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineConfig {
    /// Bytes the checkpoints may hold (pages, stacks, tables, host state).
    pub budget: usize,
    /// Instructions between checkpoints near the current position; also the most any step has to replay there.
    pub interval: u64,
    /// How many intervals around the current position keep the densest spacing; beyond, spacing doubles with
    /// every doubling of the distance.
    pub dense: u64,
    /// The run ends here if it has not ended before (a fuzzer's timeout budget).
    pub max_instructions: u64,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig {
            budget: 256 << 20,
            interval: 1 << 20,
            dense: 8,
            max_instructions: u64::MAX,
        }
    }
}

/// What can go wrong recording or replaying.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("the timeline needs an engine that tracks dirty pages (Config::track_dirty_pages)")]
    NoDirtyTracking,
    #[error("the store has no call in progress")]
    NoCall,
    #[error(
        "replay diverged at position {position}: the host answered {now:?} where the recording has {recorded:?}"
    )]
    Diverged {
        position: u64,
        recorded: HostAnswer,
        now: HostAnswer,
    },
    #[error("position {0} is after the end of the run")]
    PastEnd(u64),
    #[error("memory {0} does not exist")]
    NoMemory(u32),
    #[error("{len} bytes at {addr:#x} are outside memory {memory} ({size} bytes)")]
    OutOfBounds {
        memory: u32,
        addr: u64,
        len: u64,
        size: u64,
    },
    #[error("a range of memory needs at least one byte")]
    EmptyRange,
    #[error(transparent)]
    Engine(#[from] Error),
}

/// One memory's contents at a checkpoint: its length and its 4 KiB pages, `None` for an all-zero page.
#[derive(Debug, Clone)]
struct MemImage {
    len: usize,
    pages: Vec<Option<Arc<[u8]>>>,
}

impl MemImage {
    fn page(&self, p: usize) -> Option<&Arc<[u8]>> {
        self.pages.get(p).and_then(Option::as_ref)
    }

    fn same_page(&self, other: &MemImage, p: usize) -> bool {
        match (self.page(p), other.page(p)) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// What the watched bytes held when the watch last looked, so that a write is judged (did it change them, and
/// where?) by the bytes it touched, without a copy of the watched range: the watched pages that watched writes changed
/// since the store last equalled `Timeline::base` (a capture or a restore), as those writes left them. Every other
/// watched page holds, in the watched range, what its copy in `base` holds.
#[derive(Debug, Default)]
struct Seen {
    /// The memory and the bytes `[lo, hi)` the pages are kept for; `None` once execution that was not watched may
    /// have written them.
    range: Option<(u32, usize, usize)>,
    pages: BTreeMap<usize, Box<[u8]>>,
}

/// The state of the store and the host at one position.
#[derive(Debug, Clone)]
struct Checkpoint<H> {
    pos: u64,
    mems: Arc<[MemImage]>,
    exec: ExecState,
    /// Length of the value stack (only the cells below `sp` are kept).
    stack_len: usize,
    globals: Vec<GlobalInst>,
    tables: Vec<TableInst>,
    elems: Vec<Vec<u64>>,
    datas: Vec<bool>,
    host: H,
    /// Bytes held besides the pages.
    overhead: usize,
}

/// A code position: (module, body, pc).
type CodePoint = (usize, u32, u32);

/// The breakpoints compiled into the code: the patched modules and where each break op is.
#[derive(Debug, Clone, Default)]
struct Patch {
    /// The break positions, sorted.
    key: Vec<CodePoint>,
    /// For each distinct module (by position in `Timeline::plain`), its copy with break ops.
    modules: Vec<Module>,
    /// `(module, body, pc)` -> the user breakpoint it stands for, if any.
    points: BTreeMap<CodePoint, Option<Breakpoint>>,
}

/// A temporary stop used by step over / step out: code position and the frame depth that must hold there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TempBreak {
    module: usize,
    body: u32,
    pc: u32,
    depth: usize,
}

/// What a forward run may stop at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Events {
    breakpoints: bool,
    temp: Option<TempBreak>,
    watch: bool,
}

impl Events {
    const NONE: Events = Events {
        breakpoints: false,
        temp: None,
        watch: false,
    };
    const ALL: Events = Events {
        breakpoints: true,
        temp: None,
        watch: true,
    };
}

/// How a stretch of execution came back.
enum Slice {
    Done,
    Breakpoint,
    Watch(WatchHit),
    End,
}

/// A recorded run that can be moved to any position.
#[derive(Debug)]
pub struct Timeline<H: Host> {
    store: Store,
    host: H,
    config: TimelineConfig,
    pos: u64,
    /// Sorted by position; the first is at position 0 and is never dropped.
    checkpoints: Vec<Checkpoint<H>>,
    /// The pages the store's memories equal, except for the pages in their dirty lists.
    base: Arc<[MemImage]>,
    /// Bytes of distinct pages held by the checkpoints and `base`.
    page_bytes: usize,
    end: Option<(u64, End)>,
    /// Furthest position executed.
    frontier: u64,
    /// Host calls in order of position, as first answered.
    host_log: Vec<HostRecord>,
    /// The distinct modules of the store, as translated.
    plain: Vec<Module>,
    breakpoints: Vec<Breakpoint>,
    watch: Option<Watchpoint>,
    /// The watched bytes as the watch last saw them.
    seen: Seen,
    /// The code currently installed in the store, keyed by the break points it has.
    installed: Option<Patch>,
}

impl<H: Host> Timeline<H> {
    /// Starts recording `store`, which must have a call in progress (a host call waiting for its answer is
    /// answered first, at position 0).
    pub fn new(
        mut store: Store,
        mut host: H,
        config: TimelineConfig,
    ) -> Result<Self, TimelineError> {
        if !store.engine.config().track_dirty_pages {
            return Err(TimelineError::NoDirtyTracking);
        }
        if !store.is_running() {
            return Err(TimelineError::NoCall);
        }
        let mut host_log = Vec::new();
        let mut end = None;
        // A call not started yet is entered first, so that position 0 is the first instruction's boundary.
        let mut pending = store.pending_host_call();
        if matches!(store.exec.status, Status::Pending(_)) {
            match store.run(0) {
                Outcome::HostCall(call) => pending = Some(call),
                Outcome::Trapped(trap) => end = Some((0, End::Trapped(trap))),
                Outcome::Finished(values) => end = Some((0, End::Finished(values))),
                Outcome::OutOfFuel => {}
            }
        }
        if let Some(call) = pending {
            let answer = host.call(&mut store, &call);
            host_log.push(HostRecord {
                position: 0,
                call: call.clone(),
                answer: answer.clone(),
            });
            match answer {
                HostAnswer::Return(values) => store.host_return(&values)?,
                HostAnswer::Exit(code) => end = Some((0, End::Exited(code))),
                HostAnswer::Trap(kind) => {
                    let backtrace = store.backtrace();
                    end = Some((0, End::Trapped(Trap { kind, backtrace })));
                }
            }
        }
        store.stopped = None;
        let plain = store.modules();
        let mut timeline = Timeline {
            store,
            host,
            config,
            pos: 0,
            checkpoints: Vec::new(),
            base: Arc::from(Vec::new()),
            page_bytes: 0,
            end,
            frontier: 0,
            host_log,
            plain,
            breakpoints: Vec::new(),
            watch: None,
            seen: Seen::default(),
            installed: None,
        };
        timeline.capture(true);
        Ok(timeline)
    }

    /// The store at the current position (read it; move it only through the timeline).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The host state at the current position.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// Instructions executed since the recording began.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Where and how the run ends, once execution has reached it.
    pub fn end(&self) -> Option<(u64, &End)> {
        self.end.as_ref().map(|(p, e)| (*p, e))
    }

    /// Furthest position executed so far.
    pub fn frontier(&self) -> u64 {
        self.frontier
    }

    /// The host calls answered so far (up to the frontier), in order.
    pub fn host_log(&self) -> &[HostRecord] {
        &self.host_log
    }

    /// Positions of the checkpoints kept.
    pub fn checkpoints(&self) -> Vec<u64> {
        self.checkpoints.iter().map(|c| c.pos).collect()
    }

    /// Bytes the checkpoints hold now.
    pub fn memory_used(&self) -> usize {
        self.page_bytes + self.checkpoints.iter().map(|c| c.overhead).sum::<usize>()
    }

    pub fn breakpoints(&self) -> &[Breakpoint] {
        &self.breakpoints
    }

    /// Adds a breakpoint; false when no module has code at that location.
    pub fn add_breakpoint(&mut self, bp: Breakpoint) -> bool {
        let resolvable = self
            .plain
            .iter()
            .any(|m| m.break_point(bp.func_index, bp.offset).is_some());
        if resolvable && !self.breakpoints.contains(&bp) {
            self.breakpoints.push(bp);
        }
        resolvable
    }

    pub fn remove_breakpoint(&mut self, bp: Breakpoint) -> bool {
        let before = self.breakpoints.len();
        self.breakpoints.retain(|b| *b != bp);
        self.breakpoints.len() != before
    }

    pub fn watchpoint(&self) -> Option<Watchpoint> {
        self.watch
    }

    /// Sets (or with `None` removes) the watch that forward and reverse continue stop at. Its bytes must lie in the
    /// memory as it is at the current position.
    pub fn set_watchpoint(&mut self, watch: Option<Watchpoint>) -> Result<(), TimelineError> {
        if let Some(w) = watch {
            self.check_range(w.memory, w.addr, w.len)?;
        }
        self.watch = watch;
        Ok(())
    }

    /// Whether `len` bytes at `addr` of `memory` exist at the current position: at least one, none past the end.
    pub fn check_range(&self, memory: Memory, addr: u64, len: u64) -> Result<(), TimelineError> {
        let m = self
            .store
            .memories
            .get(memory.0 as usize)
            .ok_or(TimelineError::NoMemory(memory.0))?;
        if len == 0 {
            return Err(TimelineError::EmptyRange);
        }
        let size = m.data.len() as u64;
        if addr.checked_add(len).is_none_or(|end| end > size) {
            return Err(TimelineError::OutOfBounds {
                memory: memory.0,
                addr,
                len,
                size,
            });
        }
        Ok(())
    }

    /// Runs forward by one instruction (answering a host call it makes).
    pub fn step(&mut self) -> Result<Stop, TimelineError> {
        let target = self.pos + 1;
        self.forward(target, Events::NONE, true)
    }

    /// Goes back by one instruction.
    pub fn step_back(&mut self) -> Result<Stop, TimelineError> {
        if self.pos == 0 {
            return Ok(Stop::Start);
        }
        self.seek(self.pos - 1)
    }

    /// Moves to `position` (clamped to the end of the run, once known) without stopping on the way.
    pub fn seek(&mut self, position: u64) -> Result<Stop, TimelineError> {
        let target = match &self.end {
            Some((end, _)) => position.min(*end),
            None => position,
        };
        let (i, at) = self.nearest_checkpoint(target);
        if target < self.pos || at > self.pos {
            self.restore(i);
        }
        let stop = self.forward(target, Events::NONE, true)?;
        Ok(match stop {
            Stop::Reached if self.pos == 0 && position == 0 => Stop::Start,
            other => other,
        })
    }

    /// Runs forward until a breakpoint, the watch, or the end.
    pub fn continue_forward(&mut self) -> Result<Stop, TimelineError> {
        self.forward(u64::MAX, Events::ALL, true)
    }

    /// Runs backward to the latest breakpoint or watched write before the current position, or to the start.
    pub fn continue_backward(&mut self) -> Result<Stop, TimelineError> {
        self.backward(Events::ALL, &|_, _| true)
    }

    /// Steps one instruction, running a whole call (returning to this frame or its callers) when it enters one.
    pub fn step_over(&mut self) -> Result<Stop, TimelineError> {
        let depth = self.store.depth();
        let stop = self.step()?;
        if stop == Stop::Reached && self.store.depth() > depth {
            return self.step_out();
        }
        Ok(stop)
    }

    /// Runs until the current function returns to its caller (or a breakpoint, the watch, the end).
    pub fn step_out(&mut self) -> Result<Stop, TimelineError> {
        let depth = self.store.depth();
        let Some(temp) = self.caller_break(depth, false) else {
            return self.continue_forward();
        };
        let events = Events {
            temp: Some(temp),
            ..Events::ALL
        };
        self.forward(u64::MAX, events, true)
    }

    /// Goes back one instruction, passing over a whole call when the previous instruction returned from one.
    pub fn step_back_over(&mut self) -> Result<Stop, TimelineError> {
        let depth = self.store.depth();
        let mut stop = self.step_back()?;
        while stop == Stop::Reached && self.store.depth() > depth {
            stop = self.step_back_out()?;
        }
        Ok(stop)
    }

    /// Goes back to the call instruction that entered the current function.
    pub fn step_back_out(&mut self) -> Result<Stop, TimelineError> {
        let depth = self.store.depth();
        let Some(temp) = self.caller_break(depth, true) else {
            return self.seek(0);
        };
        let events = Events {
            temp: Some(temp),
            ..Events::ALL
        };
        self.backward(events, &|_, _| true)
    }

    /// The position and instruction of the latest write, before the current position, to any of the `len` bytes
    /// at `addr` of `memory`. `None` when nothing wrote them since the recording began. Leaves the position as it
    /// was.
    pub fn last_write(
        &mut self,
        memory: Memory,
        addr: u64,
        len: u64,
    ) -> Result<Option<WatchHit>, TimelineError> {
        let origin = self.pos;
        let saved = self.watch;
        self.set_watchpoint(Some(Watchpoint {
            memory,
            addr,
            len,
            kind: WatchKind::Write,
        }))?;
        let events = Events {
            breakpoints: false,
            temp: None,
            watch: true,
        };
        let result = self.backward(events, &|_, _| true);
        self.watch = saved;
        let stop = result?;
        self.seek(origin)?;
        Ok(match stop {
            Stop::Watch(hit) => Some(hit),
            _ => None,
        })
    }

    /// Runs forward to `limit` or the first event of `events`. `skip_first`: a breakpoint at the starting position
    /// does not stop it (the position is already stopped there).
    fn forward(
        &mut self,
        limit: u64,
        events: Events,
        skip_first: bool,
    ) -> Result<Stop, TimelineError> {
        let skip_at = skip_first.then_some(self.pos);
        let watched = if events.watch { self.watch } else { None };
        let stop = match watched {
            Some(w) if matches!(w.kind, WatchKind::Read | WatchKind::Access) => {
                self.forward_stepping(limit, events, skip_at, w)
            }
            _ => self.forward_slices(limit, events, skip_at, watched),
        };
        self.disarm();
        stop
    }

    /// `forward` by stretches that end at the next checkpoint's position, or earlier at an event.
    fn forward_slices(
        &mut self,
        limit: u64,
        events: Events,
        mut skip_at: Option<u64>,
        watched: Option<Watchpoint>,
    ) -> Result<Stop, TimelineError> {
        if let Some(w) = watched {
            self.watch_writes(w);
        }
        loop {
            if self.pos >= limit {
                return Ok(Stop::Reached);
            }
            if matches!(&self.end, Some((end, _)) if self.pos >= *end) {
                return Ok(Stop::End);
            }
            let interval = self.config.interval.max(1);
            let next_checkpoint = (self.pos / interval + 1) * interval;
            let slice_end = limit.min(next_checkpoint);
            let on_break = skip_at == Some(self.pos);
            self.install_breaks(events, on_break);
            match self.run_slice(slice_end - self.pos, watched)? {
                Slice::Done => {
                    if self.pos.is_multiple_of(interval) {
                        self.capture_here();
                    }
                }
                Slice::End => return Ok(Stop::End),
                Slice::Watch(hit) => {
                    if watched.is_some_and(|w| w.kind == WatchKind::Write) || hit.changed > 0 {
                        return Ok(Stop::Watch(hit));
                    }
                }
                Slice::Breakpoint => {
                    if let Some(stop) = self.break_stop(events) {
                        return Ok(stop);
                    }
                    skip_at = Some(self.pos);
                }
            }
        }
    }

    /// `forward` with a read watch: one instruction at a time with the plain code, checking what each is about to
    /// access (`Store::next_accesses`) against the watched range (one interval test per access, whatever the
    /// range's size) and breakpoints by position. Writes still stop through the dirty-page tracker when the watch
    /// is `Access`.
    fn forward_stepping(
        &mut self,
        limit: u64,
        events: Events,
        skip_at: Option<u64>,
        w: Watchpoint,
    ) -> Result<Stop, TimelineError> {
        let write_watch = (w.kind == WatchKind::Access).then_some(w);
        if let Some(w) = write_watch {
            self.watch_writes(w);
        }
        // The break positions of `events`, for the check by position; the code stays plain.
        self.install_breaks(events, true);
        let lo = w.addr;
        let hi = w.addr.saturating_add(w.len);
        let interval = self.config.interval.max(1);
        loop {
            if self.pos >= limit {
                return Ok(Stop::Reached);
            }
            if matches!(&self.end, Some((end, _)) if self.pos >= *end) {
                return Ok(Stop::End);
            }
            // (A slice that starts on plain code installs the break ops after its first instruction.)
            self.install_code(false);
            if skip_at != Some(self.pos)
                && let Some(here) = self.current_code_position()
                && self
                    .installed
                    .as_ref()
                    .is_some_and(|p| p.points.contains_key(&here))
                && let Some(stop) = self.break_stop(events)
            {
                return Ok(stop);
            }
            let read = self.store.next_accesses().into_iter().find(|a| {
                !a.write && a.memory == w.memory && a.addr < hi && a.addr.saturating_add(a.len) > lo
            });
            // The bytes around the first one read, as they are before the instruction.
            let before = read.map(|a| {
                let addr = a.addr.max(lo);
                let (window, bytes) = self.window(w, addr);
                (addr, window, bytes)
            });
            match self.run_slice(1, write_watch)? {
                Slice::Done => {
                    if let Some((addr, window, bytes)) = before {
                        return Ok(Stop::Watch(WatchHit {
                            position: self.pos - 1,
                            location: self.store.previous_op_location(),
                            host: None,
                            write: false,
                            addr,
                            changed: 0,
                            window,
                            old: bytes.clone(),
                            new: bytes,
                        }));
                    }
                    if self.pos.is_multiple_of(interval) {
                        self.capture_here();
                    }
                }
                Slice::End => return Ok(Stop::End),
                Slice::Watch(hit) => return Ok(Stop::Watch(hit)),
                Slice::Breakpoint => {}
            }
        }
    }

    /// At a break op: the stop it means, or `None` when it does not count (a step-out's temporary stop at the
    /// wrong depth) and the run goes on.
    fn break_stop(&self, events: Events) -> Option<Stop> {
        let (module, body, pc) = self.current_code_position()?;
        if let Some(temp) = events.temp
            && (temp.module, temp.body, temp.pc) == (module, body, pc)
            && self.store.depth() == temp.depth
        {
            return Some(Stop::Reached);
        }
        if events.breakpoints {
            let bp = self
                .installed
                .as_ref()
                .and_then(|patch| patch.points.get(&(module, body, pc)).copied().flatten());
            if let Some(bp) = bp {
                return Some(Stop::Breakpoint(bp));
            }
        }
        None
    }

    /// Runs backward to the latest event of `events` before the current position that `accept` takes (judged at
    /// the event's position), or to the start.
    fn backward(
        &mut self,
        events: Events,
        accept: &dyn Fn(&Self, &Stop) -> bool,
    ) -> Result<Stop, TimelineError> {
        let mut hi = self.pos;
        while hi > 0 {
            let (i, from) = self.nearest_checkpoint(hi - 1);
            if self.watch_unwritten(i, hi, events) {
                hi = from;
                continue;
            }
            self.restore(i);
            let mut found: Option<(u64, Stop)> = None;
            let mut first = true;
            loop {
                let stop = self.forward(hi, events, !first)?;
                first = false;
                match stop {
                    // A temporary stop (step out backwards) before `hi`.
                    Stop::Reached if self.pos < hi => {
                        if accept(self, &stop) {
                            found = Some((self.pos, stop));
                        }
                    }
                    Stop::Reached | Stop::End | Stop::Start => break,
                    Stop::Breakpoint(_) => {
                        if self.pos < hi && accept(self, &stop) {
                            found = Some((self.pos, stop));
                        }
                    }
                    Stop::Watch(ref hit) => {
                        if hit.position < hi && accept(self, &stop) {
                            found = Some((hit.position, stop));
                        }
                    }
                }
                if self.pos >= hi {
                    break;
                }
            }
            if let Some((at, stop)) = found {
                self.seek(at)?;
                return Ok(stop);
            }
            hi = from;
        }
        self.seek(0)?;
        Ok(Stop::Start)
    }

    /// Whether a backward run for `events` can pass over the stretch from checkpoint `i` to the checkpoint at `hi`
    /// without replaying it: it stops at a write or change watch only, and both checkpoints hold the very same copy
    /// of every page of the watched bytes. (A checkpoint shares a page's copy with an earlier one only if nothing
    /// wrote the page in between — a written page is copied anew — and an all-zero page has no copy, so proves
    /// nothing.)
    fn watch_unwritten(&self, i: usize, hi: u64, events: Events) -> bool {
        let breakpoints = events.breakpoints && !self.breakpoints.is_empty();
        // Reads leave the pages as they were: only a watch for writes alone can pass over unwritten stretches.
        let Some(w) = self.watch.filter(|w| {
            events.watch
                && events.temp.is_none()
                && !breakpoints
                && matches!(w.kind, WatchKind::Write | WatchKind::Change)
        }) else {
            return false;
        };
        let (Some(a), Some(b)) = (self.checkpoints.get(i), self.checkpoints.get(i + 1)) else {
            return false;
        };
        let memory = w.memory.0 as usize;
        let (Some(a), Some(b)) = (
            a.mems.get(memory),
            b.mems.get(memory).filter(|_| b.pos == hi),
        ) else {
            return false;
        };
        let (Ok(lo), Ok(len)) = (usize::try_from(w.addr), usize::try_from(w.len)) else {
            return false;
        };
        let Some(last) = lo.checked_add(len).and_then(|end| end.checked_sub(1)) else {
            return false;
        };
        len > 0
            && (lo / PAGE..=last / PAGE)
                .all(|p| matches!((a.page(p), b.page(p)), (Some(x), Some(y)) if Arc::ptr_eq(x, y)))
    }

    /// A temporary stop at the caller of the innermost frame: where it continues (`at_call` false) or its call
    /// instruction (`at_call` true).
    fn caller_break(&self, depth: usize, at_call: bool) -> Option<TempBreak> {
        if depth < 2 {
            return None;
        }
        let caller = self.store.exec.frames[depth - 2];
        let module = self.module_of(caller.instance)?;
        let pc = if at_call {
            caller.pc.checked_sub(1)?
        } else {
            caller.pc
        };
        Some(TempBreak {
            module,
            body: caller.body,
            pc,
            depth: depth - 1,
        })
    }

    fn module_of(&self, instance: u32) -> Option<usize> {
        let hash = self.store.instances.get(instance as usize)?.module.hash();
        self.plain.iter().position(|m| m.hash() == hash)
    }

    /// `(module, body, pc)` of the next op of the innermost frame.
    fn current_code_position(&self) -> Option<(usize, u32, u32)> {
        let frame = self.store.exec.frames.last()?;
        Some((self.module_of(frame.instance)?, frame.body, frame.pc))
    }

    /// Installs the code a forward run needs. `on_break`: the run starts on a break position and must get past it,
    /// so the first slice runs without break ops (see `run_slice`).
    fn install_breaks(&mut self, events: Events, on_break: bool) {
        let mut points: Vec<CodePoint> = Vec::new();
        let mut owners: BTreeMap<CodePoint, Option<Breakpoint>> = BTreeMap::new();
        if events.breakpoints {
            for &bp in &self.breakpoints {
                for (m, module) in self.plain.iter().enumerate() {
                    if let Some((body, pc)) = module.break_point(bp.func_index, bp.offset) {
                        owners.insert((m, body, pc), Some(bp));
                    }
                }
            }
        }
        if let Some(t) = events.temp {
            owners.entry((t.module, t.body, t.pc)).or_insert(None);
        }
        points.extend(owners.keys().copied());
        let same = self.installed.as_ref().is_some_and(|p| p.key == points);
        if !same {
            let modules = self
                .plain
                .iter()
                .enumerate()
                .map(|(m, module)| {
                    let here: Vec<(u32, u32)> = points
                        .iter()
                        .filter(|p| p.0 == m)
                        .map(|p| (p.1, p.2))
                        .collect();
                    if here.is_empty() {
                        module.clone()
                    } else {
                        module.with_breaks(&here)
                    }
                })
                .collect();
            self.installed = Some(Patch {
                key: points.clone(),
                modules,
                points: owners,
            });
        }
        let patched = !points.is_empty() && !on_break;
        self.install_code(patched);
    }

    /// Has the dirty-page tracker stop the run after every write to `w`'s bytes (until `disarm`).
    fn watch_writes(&mut self, w: Watchpoint) {
        let (lo, hi) = watched_bytes(w);
        if let Some(m) = self.store.memories.get_mut(w.memory.0 as usize) {
            m.set_watch(Some((lo, hi)));
        }
    }

    /// Puts the plain code back and removes the watch.
    fn disarm(&mut self) {
        self.install_code(false);
        for m in &mut self.store.memories {
            if m.dirty.as_ref().is_some_and(|d| d.watch.is_some()) {
                m.set_watch(None);
            }
        }
    }

    fn install_code(&mut self, patched: bool) {
        let Timeline {
            store,
            plain,
            installed,
            ..
        } = self;
        for inst in &mut store.instances {
            let Some(m) = plain.iter().position(|p| p.hash() == inst.module.hash()) else {
                continue;
            };
            let wanted = match (patched, installed.as_ref()) {
                (true, Some(patch)) => &patch.modules[m],
                _ => &plain[m],
            };
            if !Arc::ptr_eq(&inst.module.inner, &wanted.inner) {
                inst.module = wanted.clone();
            }
        }
    }

    /// Runs at most `n` instructions, answering host calls. When the code has break ops and the store sits on one,
    /// the first instruction runs with plain code.
    fn run_slice(&mut self, n: u64, watched: Option<Watchpoint>) -> Result<Slice, TimelineError> {
        let target = self.pos + n;
        let patched_wanted = self.installed.as_ref().is_some_and(|p| !p.key.is_empty());
        let mut plain_first = patched_wanted && self.is_plain_installed();
        match watched {
            Some(w) => self.look_at(w),
            None => self.seen.range = None,
        }
        loop {
            if self.pos >= target {
                return Ok(Slice::Done);
            }
            if matches!(&self.end, Some((end, _)) if self.pos >= *end) {
                return Ok(Slice::End);
            }
            if self.end.is_none() && self.pos >= self.config.max_instructions {
                self.end = Some((self.pos, End::OutOfFuel));
                return Ok(Slice::End);
            }
            let mut budget = (target - self.pos).min(self.config.max_instructions - self.pos);
            if let Some((end, _)) = &self.end {
                budget = budget.min(end - self.pos);
            }
            if plain_first {
                budget = 1;
            }
            let before = self.store.fuel_consumed();
            let outcome = self.store.run(budget);
            let used = self.store.fuel_consumed() - before;
            self.pos += used;
            self.frontier = self.frontier.max(self.pos);
            if plain_first && (used > 0 || !matches!(outcome, Outcome::OutOfFuel)) {
                plain_first = false;
                self.install_code(true);
            }
            match outcome {
                Outcome::OutOfFuel => match self.store.stopped.take() {
                    Some(Stopped::Breakpoint) => return Ok(Slice::Breakpoint),
                    Some(Stopped::Watch) => {
                        let span = self.take_watch_span();
                        return Ok(Slice::Watch(self.watch_hit(watched, span, None)));
                    }
                    None => {}
                },
                Outcome::HostCall(call) => {
                    if let Some(slice) = self.answer(&call, watched)? {
                        return Ok(slice);
                    }
                }
                Outcome::Finished(values) => {
                    self.end = Some((self.pos, End::Finished(values)));
                    return Ok(Slice::End);
                }
                Outcome::Trapped(trap) => {
                    // The trapping instruction counted; the state before it is one position back.
                    let at = if used > 0 { self.pos - 1 } else { self.pos };
                    self.end = Some((at, End::Trapped(trap)));
                    self.disarm();
                    let (i, _) = self.nearest_checkpoint(at);
                    self.restore(i);
                    self.forward(at, Events::NONE, true)?;
                    return Ok(Slice::End);
                }
            }
        }
    }

    fn is_plain_installed(&self) -> bool {
        self.store.instances.iter().all(|inst| {
            self.plain
                .iter()
                .any(|p| Arc::ptr_eq(&p.inner, &inst.module.inner))
        })
    }

    /// Answers a host call at the current position, checking a replayed answer against the recorded one.
    fn answer(
        &mut self,
        call: &HostCall,
        watched: Option<Watchpoint>,
    ) -> Result<Option<Slice>, TimelineError> {
        let answer = self.host.call(&mut self.store, call);
        let recorded = self
            .host_log
            .binary_search_by_key(&self.pos, |r| r.position)
            .ok()
            .map(|i| &self.host_log[i]);
        match recorded {
            Some(r) if r.answer != answer || r.call != *call => {
                return Err(TimelineError::Diverged {
                    position: self.pos,
                    recorded: r.answer.clone(),
                    now: answer,
                });
            }
            Some(_) => {}
            None => {
                let at = self.host_log.partition_point(|r| r.position < self.pos);
                self.host_log.insert(
                    at,
                    HostRecord {
                        position: self.pos,
                        call: call.clone(),
                        answer: answer.clone(),
                    },
                );
            }
        }
        let span = self.take_watch_span();
        match answer {
            HostAnswer::Return(values) => {
                self.store.host_return(&values)?;
                if span.is_some() {
                    let name = self.host.name(call.host_id);
                    return Ok(Some(Slice::Watch(self.watch_hit(
                        watched,
                        span,
                        Some(name),
                    ))));
                }
                Ok(None)
            }
            HostAnswer::Exit(code) => {
                self.end = Some((self.pos, End::Exited(code)));
                Ok(Some(Slice::End))
            }
            HostAnswer::Trap(kind) => {
                let backtrace = self.store.backtrace();
                self.end = Some((self.pos, End::Trapped(Trap { kind, backtrace })));
                Ok(Some(Slice::End))
            }
        }
    }

    /// The watched bytes written since the last call, from the first to the last (`None`: no write touched them).
    fn take_watch_span(&mut self) -> Option<(usize, usize)> {
        let mut span: Option<(usize, usize)> = None;
        for m in &mut self.store.memories {
            if let Some(w) = m.dirty.as_mut().and_then(|d| d.watch.as_mut()) {
                w.hit = false;
                if let Some((lo, hi)) = w.span.take() {
                    span = Some(span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
                }
            }
        }
        span
    }

    /// The hit for the watched writes to the bytes `span` that just completed (the writing instruction, or the host
    /// call at the current position): their bytes are compared with what the watch last saw, and only theirs.
    fn watch_hit(
        &mut self,
        watched: Option<Watchpoint>,
        span: Option<(usize, usize)>,
        host: Option<String>,
    ) -> WatchHit {
        let mut hit = WatchHit {
            position: self.pos.saturating_sub(1),
            location: self.store.previous_op_location(),
            host,
            write: true,
            addr: 0,
            changed: 0,
            window: 0,
            old: Vec::new(),
            new: Vec::new(),
        };
        let (Some(w), Some((lo, hi))) = (watched, span) else {
            return hit;
        };
        let memory = w.memory.0 as usize;
        let Some(m) = self.store.memories.get(memory) else {
            return hit;
        };
        let hi = hi.min(m.data.len());
        let mut first = None;
        let mut changed_pages = Vec::new();
        let mut at = lo;
        while at < hi {
            let p = at / PAGE;
            let end = ((p + 1) * PAGE).min(hi);
            let before = self.seen_page(memory, p);
            let mut changed = 0u64;
            for (i, &now) in m.data[at..end].iter().enumerate() {
                let was = before.and_then(|b| b.get(at - p * PAGE + i)).copied();
                if was.unwrap_or(0) != now {
                    changed += 1;
                    first.get_or_insert(at + i);
                }
            }
            if changed > 0 {
                hit.changed += changed;
                changed_pages.push(p);
            }
            at = end;
        }
        hit.addr = first.unwrap_or(lo) as u64;
        let (window, new) = self.window(w, hit.addr);
        hit.old = (window..window + new.len() as u64)
            .map(|a| self.seen_byte(memory, a as usize))
            .collect();
        hit.window = window;
        hit.new = new;
        // What the watch sees from now on.
        let data = &self.store.memories[memory].data;
        for p in changed_pages {
            let bytes = &data[p * PAGE..((p + 1) * PAGE).min(data.len())];
            self.seen.pages.insert(p, Box::from(bytes));
        }
        hit
    }

    /// Makes `seen` describe watch `w` from the current position on: unless it already does, the watched pages
    /// written since the store last equalled `base` are copied (once per run, not per write).
    fn look_at(&mut self, w: Watchpoint) {
        let (lo, hi) = watched_bytes(w);
        let key = (w.memory.0, lo, hi);
        if self.seen.range == Some(key) {
            return;
        }
        self.seen.pages.clear();
        if let Some(m) = self.store.memories.get(w.memory.0 as usize)
            && let Some(dirty) = &m.dirty
        {
            for &p in &dirty.list {
                let start = p as usize * PAGE;
                let end = (start + PAGE).min(m.data.len());
                if start < hi && end > lo && start < end {
                    self.seen
                        .pages
                        .insert(p as usize, Box::from(&m.data[start..end]));
                }
            }
        }
        self.seen.range = Some(key);
    }

    /// Page `p` of memory `memory` as the watch last saw it (`None`: all zero).
    fn seen_page(&self, memory: usize, p: usize) -> Option<&[u8]> {
        match self.seen.pages.get(&p) {
            Some(bytes) => Some(bytes),
            None => self
                .base
                .get(memory)
                .and_then(|image| image.page(p))
                .map(|bytes| &bytes[..]),
        }
    }

    fn seen_byte(&self, memory: usize, addr: usize) -> u8 {
        self.seen_page(memory, addr / PAGE)
            .and_then(|bytes| bytes.get(addr % PAGE))
            .copied()
            .unwrap_or(0)
    }

    /// The window of the watched range around `addr` that a hit shows: its address and its bytes now.
    fn window(&self, w: Watchpoint, addr: u64) -> (u64, Vec<u8>) {
        let data = self
            .store
            .memories
            .get(w.memory.0 as usize)
            .map_or(&[][..], |m| &m.data[..]);
        let (lo, hi) = watched_bytes(w);
        let hi = hi.min(data.len()) as u64;
        let lo = (lo as u64).min(hi);
        let start = addr
            .saturating_sub(WATCH_WINDOW / 4)
            .min(hi.saturating_sub(WATCH_WINDOW))
            .max(lo);
        let end = start.saturating_add(WATCH_WINDOW).min(hi);
        (start, data[start as usize..end as usize].to_vec())
    }

    /// Index and position of the latest checkpoint at or before `pos`.
    fn nearest_checkpoint(&self, pos: u64) -> (usize, u64) {
        let i = self
            .checkpoints
            .partition_point(|c| c.pos <= pos)
            .saturating_sub(1);
        (i, self.checkpoints[i].pos)
    }

    /// Captures a checkpoint at the current position unless one is there, then thins them out.
    fn capture_here(&mut self) {
        let (_, at) = self.nearest_checkpoint(self.pos);
        if at != self.pos {
            self.capture(false);
        }
    }

    /// Captures the current state. `full`: every page is read (the dirty lists are not relative to `base`).
    fn capture(&mut self, full: bool) {
        let mut mems = Vec::with_capacity(self.store.memories.len());
        for (i, m) in self.store.memories.iter().enumerate() {
            let npages = m.data.len().div_ceil(PAGE);
            let mut pages = match self.base.get(i) {
                Some(image) if !full => image.pages.clone(),
                _ => Vec::new(),
            };
            pages.resize(npages, None);
            let mut copy = |p: usize, pages: &mut Vec<Option<Arc<[u8]>>>| {
                if p >= npages {
                    return;
                }
                let bytes = &m.data[p * PAGE..((p + 1) * PAGE).min(m.data.len())];
                pages[p] = if bytes.iter().all(|&b| b == 0) {
                    None
                } else {
                    self.page_bytes += PAGE;
                    Some(Arc::from(bytes))
                };
            };
            if full {
                for p in 0..npages {
                    copy(p, &mut pages);
                }
            } else if let Some(dirty) = &m.dirty {
                for &p in &dirty.list {
                    copy(p as usize, &mut pages);
                }
            }
            mems.push(MemImage {
                len: m.data.len(),
                pages,
            });
        }
        let mems: Arc<[MemImage]> = Arc::from(mems);
        self.store.clear_dirty();
        // The store equals its new base.
        self.seen.pages.clear();
        let exec = &self.store.exec;
        let mut kept = exec.clone();
        kept.stack.truncate(exec.sp.min(exec.stack.len()));
        let host = self.host.clone();
        let tables = self.store.tables.clone();
        let elems = self.store.elems.clone();
        let overhead = mems.iter().map(|m| m.pages.len() * 8).sum::<usize>()
            + kept.stack.len() * 8
            + kept.frames.len() * std::mem::size_of::<crate::store::Frame>()
            + tables.iter().map(|t| t.elems.len() * 8).sum::<usize>()
            + elems.iter().map(|e| e.len() * 8).sum::<usize>()
            + host.size_hint()
            + std::mem::size_of::<Checkpoint<H>>();
        let checkpoint = Checkpoint {
            pos: self.pos,
            mems: mems.clone(),
            exec: kept,
            stack_len: exec.stack.len(),
            globals: self.store.globals.clone(),
            tables,
            elems,
            datas: self.store.datas.iter().map(|d| d.dropped).collect(),
            host,
            overhead,
        };
        let old_base = std::mem::replace(&mut self.base, mems);
        self.release(old_base);
        let at = self.checkpoints.partition_point(|c| c.pos < self.pos);
        self.checkpoints.insert(at, checkpoint);
        self.thin();
    }

    /// Drops checkpoints that are closer together than their distance from the current position calls for, then
    /// more while over budget.
    fn thin(&mut self) {
        let interval = self.config.interval.max(1);
        let dense = self.config.dense.max(1);
        let focus = self.pos;
        let spacing = |pos: u64| -> u64 {
            let far = pos.abs_diff(focus) / (interval * dense);
            let doublings = 64 - far.leading_zeros();
            interval.saturating_mul(1u64 << doublings.min(62))
        };
        let mut i = 1;
        while i + 1 < self.checkpoints.len() {
            let gap = self.checkpoints[i + 1].pos - self.checkpoints[i - 1].pos;
            if gap <= spacing(self.checkpoints[i].pos) && self.checkpoints[i].pos != focus {
                self.drop_checkpoint(i);
            } else {
                i += 1;
            }
        }
        while self.memory_used() > self.config.budget && self.checkpoints.len() > 2 {
            // The interior checkpoint whose loss widens the gaps least, relative to its distance from here.
            let worst = (1..self.checkpoints.len() - 1)
                .filter(|&i| self.checkpoints[i].pos != focus)
                .min_by(|&a, &b| {
                    let score = |i: usize| {
                        let gap = self.checkpoints[i + 1].pos - self.checkpoints[i - 1].pos;
                        gap as f64 / (self.checkpoints[i].pos.abs_diff(focus) + interval) as f64
                    };
                    score(a).total_cmp(&score(b))
                });
            match worst {
                Some(i) => self.drop_checkpoint(i),
                None => break,
            }
        }
    }

    fn drop_checkpoint(&mut self, i: usize) {
        let checkpoint = self.checkpoints.remove(i);
        self.release(checkpoint.mems);
    }

    /// Gives up one reference to a memory image, counting the pages that go with it.
    fn release(&mut self, mems: Arc<[MemImage]>) {
        if Arc::strong_count(&mems) == 1 {
            for image in mems.iter() {
                for page in image.pages.iter().flatten() {
                    if Arc::strong_count(page) == 1 {
                        self.page_bytes -= PAGE;
                    }
                }
            }
        }
    }

    /// Puts the store and the host back to checkpoint `i`.
    fn restore(&mut self, i: usize) {
        let checkpoint = &self.checkpoints[i];
        for (m, (mem, target)) in self
            .store
            .memories
            .iter_mut()
            .zip(checkpoint.mems.iter())
            .enumerate()
        {
            let base = self.base.get(m);
            let mut pages: Vec<usize> = mem
                .dirty
                .as_ref()
                .map(|d| d.list.iter().map(|&p| p as usize).collect())
                .unwrap_or_default();
            let span = target
                .pages
                .len()
                .max(base.map_or(0, |b| b.pages.len()))
                .max(mem.data.len().div_ceil(PAGE));
            match base {
                Some(base) => pages.extend((0..span).filter(|&p| !base.same_page(target, p))),
                None => pages.extend(0..span),
            }
            restore_pages(mem, target, &pages);
        }
        self.store.clear_dirty();
        self.seen.pages.clear();
        let exec = &mut self.store.exec;
        exec.clone_from(&checkpoint.exec);
        exec.stack.resize(checkpoint.stack_len, 0);
        self.store.globals.clone_from(&checkpoint.globals);
        self.store.tables.clone_from(&checkpoint.tables);
        self.store.elems.clone_from(&checkpoint.elems);
        for (d, &dropped) in self.store.datas.iter_mut().zip(&checkpoint.datas) {
            d.dropped = dropped;
        }
        self.store.stopped = None;
        self.host = checkpoint.host.clone();
        self.pos = checkpoint.pos;
        let mems = checkpoint.mems.clone();
        let old_base = std::mem::replace(&mut self.base, mems);
        self.release(old_base);
    }
}

/// The bytes `[lo, hi)` a watch covers, as memory indices.
fn watched_bytes(w: Watchpoint) -> (usize, usize) {
    let lo = usize::try_from(w.addr).unwrap_or(usize::MAX);
    let hi = lo.saturating_add(usize::try_from(w.len).unwrap_or(usize::MAX));
    (lo, hi)
}

/// Copies `pages` of `target` into `mem` and gives it `target`'s length.
fn restore_pages(mem: &mut MemoryInst, target: &MemImage, pages: &[usize]) {
    mem.data.resize(target.len, 0);
    for &p in pages {
        let start = p * PAGE;
        if start >= target.len {
            continue;
        }
        let end = (start + PAGE).min(target.len);
        match target.page(p) {
            Some(bytes) => mem.data[start..end].copy_from_slice(&bytes[..end - start]),
            None => mem.data[start..end].fill(0),
        }
    }
}

impl<H: Host> Timeline<H> {
    /// Whether the store is paused inside a call (false at the end of a finished run).
    pub fn is_paused(&self) -> bool {
        matches!(
            self.store.exec.status,
            Status::Paused | Status::Pending(_) | Status::InHost(_)
        )
    }
}
