//! A GDB remote server over one debug session: LLDB, with its Wasm plugin, attaches over TCP and drives the session's
//! timeline — breakpoints, stepping and continuing in both directions, the call stack, locals, globals, operand
//! stack and memory — through `gdbstub` and LLDB's Wasm extensions of the protocol.
//!
//! Addresses follow LLDB's Wasm encoding ([`WasmAddr`]): the module's bytes live in the object space of module 0 (the
//! program counter is the object address of the instruction's byte offset), and linear memory 0 in its memory space.
//! The server serves exactly one module and one memory: the fuzz target's.

use std::io;
use std::net::TcpListener;

use capicola_engine::timeline::{Breakpoint, End, Stop, TimelineError, WatchKind, Watchpoint};
use capicola_engine::{Memory, TrapKind, Val};
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::reverse_exec::{
    ReplayLogPosition, ReverseCont, ReverseContOps, ReverseStep, ReverseStepOps,
};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::breakpoints::{
    self, Breakpoints, BreakpointsOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::ext::host_info::{HostInfo, HostInfoOps, HostInfoResponse};
use gdbstub::target::ext::libraries::{Libraries, LibrariesOps};
use gdbstub::target::ext::lldb_register_info_override::{
    Callback, CallbackToken, LldbRegisterInfoOverride, LldbRegisterInfoOverrideOps,
};
use gdbstub::target::ext::process_info::{ProcessInfo, ProcessInfoOps, ProcessInfoResponse};
use gdbstub::target::ext::wasm::{Wasm as WasmExt, WasmOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::wasm::Wasm;
use gdbstub_arch::wasm::addr::{WasmAddr, WasmAddrType};
use gdbstub_arch::wasm::reg::WasmRegisters;
use gdbstub_arch::wasm::reg::id::WasmRegId;

use super::Session;

/// The triple LLDB's Wasm plugin expects of the process.
const TRIPLE: &str = "wasm32-unknown-unknown-wasm";

/// The errors of the protocol layer: the target's (a timeline that could not move) or the connection's.
type StubError = gdbstub::stub::GdbStubError<TimelineError, io::Error>;

/// What went wrong serving a debugger.
#[derive(Debug, thiserror::Error)]
pub enum GdbError {
    #[error("cannot accept a debugger connection")]
    Accept(#[source] io::Error),
    #[error("the GDB remote session failed")]
    Protocol(#[source] StubError),
    #[error("the timeline could not move")]
    Timeline(#[from] TimelineError),
}

/// Accepts one debugger connection on `listener` and serves `session` until the debugger detaches or disconnects.
/// `wasm` is the module's binary (LLDB reads it, with its DWARF, through code-space memory reads); `name` is the
/// module's name in the library list (LLDB shows it, and loads the file itself when the name is a readable path).
pub fn serve(
    session: &mut Session,
    wasm: &[u8],
    name: &str,
    listener: &TcpListener,
) -> Result<DisconnectReason, GdbError> {
    let (stream, _) = listener.accept().map_err(GdbError::Accept)?;
    stream.set_nodelay(true).map_err(GdbError::Accept)?;
    let mut server = Server::new(session, wasm, name);
    let protocol = GdbError::Protocol;
    let mut gdb = GdbStub::new(stream)
        .run_state_machine(&mut server)
        .map_err(protocol)?;
    loop {
        gdb = match gdb {
            GdbStubStateMachine::Idle(mut idle) => {
                let byte = match idle.borrow_conn().read() {
                    Ok(byte) => byte,
                    // The debugger went away without detaching.
                    Err(_) => return Ok(DisconnectReason::Disconnect),
                };
                idle.incoming_data(&mut server, byte).map_err(protocol)?
            }
            GdbStubStateMachine::Running(running) => {
                // Timeline moves are synchronous: the stop is known as soon as the move returns.
                let reason = server.run()?;
                let pc = server.pc().to_le_bytes();
                // LLDB's Wasm plugin takes the pc from the stop packet itself (gdbstub_arch's documentation).
                let mut regs = std::iter::once((WasmRegId::Pc, &pc[..]));
                running
                    .report_stop_with_regs(&mut server, reason, &mut regs)
                    .map_err(protocol)?
            }
            GdbStubStateMachine::CtrlCInterrupt(interrupt) => {
                // Moves run to completion before the connection is read again, so an interrupt only arrives once
                // the move it was meant to stop has already reported its stop: there is nothing left to interrupt.
                let reason: Option<SingleThreadStopReason<u64>> = None;
                interrupt
                    .interrupt_handled(&mut server, reason)
                    .map_err(protocol)?
            }
            GdbStubStateMachine::Disconnected(done) => return Ok(done.get_reason()),
        }
    }
}

/// The move the debugger asked for, carried out when the stub enters its running state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    Continue,
    Step,
    ReverseContinue,
    ReverseStep,
}

/// The gdbstub target: a session seen through LLDB's Wasm address space.
struct Server<'a> {
    session: &'a mut Session,
    wasm: &'a [u8],
    /// The `qXfer:libraries:read` document.
    libraries: String,
    resume: Resume,
    /// The watch LLDB set, as it gave it (memory-space address and length).
    watch: Option<(u64, u64)>,
    /// What the watch looks for, as the debugger asked.
    watch_kind: breakpoints::WatchKind,
}

impl<'a> Server<'a> {
    fn new(session: &'a mut Session, wasm: &'a [u8], name: &str) -> Self {
        let base = code_addr(0);
        let libraries = format!(
            "<library-list><library name=\"{}\"><section address=\"{base:#x}\"/></library></library-list>",
            xml_escape(name)
        );
        Server {
            session,
            wasm,
            libraries,
            resume: Resume::Continue,
            watch: None,
            watch_kind: breakpoints::WatchKind::Write,
        }
    }

    /// Carries out the pending move and says why it stopped.
    fn run(&mut self) -> Result<SingleThreadStopReason<u64>, TimelineError> {
        let timeline = &mut self.session.timeline;
        let mut stop = match self.resume {
            Resume::Continue => timeline.continue_forward()?,
            Resume::Step => timeline.step()?,
            Resume::ReverseContinue => timeline.continue_backward()?,
            Resume::ReverseStep => timeline.step_back()?,
        };
        if !timeline.is_paused() && timeline.position() > 0 {
            // A run that returned has no frame left to show: the debugger stops at its last instruction instead,
            // as the end of the recording.
            timeline.step_back()?;
            stop = Stop::End;
        }
        Ok(self.stop_reason(&stop))
    }

    fn stop_reason(&self, stop: &Stop) -> SingleThreadStopReason<u64> {
        match stop {
            // T packets (with the thread and the pc) rather than gdbstub's plain `S05` for a step, which LLDB does not
            // take as the end of its step.
            Stop::Reached => SingleThreadStopReason::SignalWithThread {
                tid: (),
                signal: Signal::SIGTRAP,
            },
            Stop::Breakpoint(_) => SingleThreadStopReason::SwBreak(()),
            Stop::Watch(_) => SingleThreadStopReason::Watch {
                tid: (),
                kind: self.watch_kind,
                addr: self.watch.map_or(0, |(addr, _)| addr),
            },
            Stop::Start => SingleThreadStopReason::ReplayLog {
                tid: Some(()),
                pos: ReplayLogPosition::Begin,
            },
            Stop::End => match self.session.timeline.end() {
                // A trap stops the process with a signal, paused before the trapping instruction: the debugger can
                // still look around and go back.
                Some((_, End::Trapped(trap))) => SingleThreadStopReason::SignalWithThread {
                    tid: (),
                    signal: signal(&trap.kind),
                },
                // Any other end is the end of the recording rather than an exit, so that the debugger keeps the
                // process and can go back from there.
                _ => SingleThreadStopReason::ReplayLog {
                    tid: Some(()),
                    pos: ReplayLogPosition::End,
                },
            },
        }
    }

    /// The program counter: the code-space address of the current instruction (0 when no call is in progress).
    fn pc(&self) -> u64 {
        self.session
            .timeline
            .store()
            .position()
            .map_or(0, |at| code_addr(at.offset))
    }

    /// The memory a memory-space address of module `module` refers to.
    fn memory(&self, module: u32) -> Option<Memory> {
        (module == 0).then_some(self.session.memory)
    }

    /// The watchable memory range LLDB names with `addr`/`len`.
    fn watchpoint(&self, addr: u64, len: u64, kind: breakpoints::WatchKind) -> Option<Watchpoint> {
        let addr = WasmAddr::from_raw(addr)?;
        if addr.addr_type() != WasmAddrType::Memory {
            return None;
        }
        Some(Watchpoint {
            memory: self.memory(addr.module_index())?,
            addr: u64::from(addr.offset()),
            len,
            kind: match kind {
                breakpoints::WatchKind::Write => WatchKind::Write,
                breakpoints::WatchKind::Read => WatchKind::Read,
                breakpoints::WatchKind::ReadWrite => WatchKind::Access,
            },
        })
    }

    /// The breakpoint at a code-space address.
    fn breakpoint(&self, addr: u64) -> Option<Breakpoint> {
        let addr = WasmAddr::from_raw(addr)?;
        if addr.addr_type() != WasmAddrType::Object || addr.module_index() != 0 {
            return None;
        }
        let offset = addr.offset();
        let func_index = self.session.module.func_at_offset(offset)?;
        Some(Breakpoint { func_index, offset })
    }
}

/// The code-space address of module byte `offset` in module 0.
fn code_addr(offset: usize) -> u64 {
    let offset = u32::try_from(offset).unwrap_or(u32::MAX);
    WasmAddr::new(WasmAddrType::Object, 0, offset).map_or(0, WasmAddr::as_raw)
}

/// The signal a trap stops the process with, as a native program would get it ([`lldb_command`] names them all).
fn signal(kind: &TrapKind) -> Signal {
    match kind {
        TrapKind::MemoryOutOfBounds
        | TrapKind::TableOutOfBounds
        | TrapKind::UndefinedElement
        | TrapKind::IndirectCallToNull
        | TrapKind::NullReference
        | TrapKind::BadReference
        | TrapKind::StackExhausted
        | TrapKind::Sanitizer(_) => Signal::SIGSEGV,
        TrapKind::IntegerOverflow
        | TrapKind::IntegerDivisionByZero
        | TrapKind::InvalidConversionToInteger => Signal::SIGFPE,
        TrapKind::Unreachable | TrapKind::BadSignature => Signal::SIGILL,
        TrapKind::Host(_) | TrapKind::ResourceExhausted(_) => Signal::SIGABRT,
    }
}

/// Writes `val` in its native little-endian width into `buf`; returns the width.
fn put_val(val: &Val, buf: &mut [u8]) -> usize {
    let bytes: Vec<u8> = match *val {
        Val::I32(v) => v.to_le_bytes().to_vec(),
        Val::I64(v) => v.to_le_bytes().to_vec(),
        Val::F32(bits) => bits.to_le_bytes().to_vec(),
        Val::F64(bits) => bits.to_le_bytes().to_vec(),
        Val::V128(bits) => bits.to_le_bytes().to_vec(),
        // References have no address LLDB could use: null reads as 0, others as all ones.
        Val::FuncRef(f) => u32::from(f.is_some()).wrapping_neg().to_le_bytes().to_vec(),
        Val::ExternRef(r) => r.unwrap_or(0).to_le_bytes().to_vec(),
    };
    put_bytes(&bytes, buf)
}

fn put_bytes(bytes: &[u8], buf: &mut [u8]) -> usize {
    let n = bytes.len().min(buf.len());
    buf[..n].copy_from_slice(&bytes[..n]);
    n
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The module byte offset just after the call instruction at `offset` (an address inside the call when it cannot
/// be decoded): callers' frames report their return address, as on native targets, so that LLDB's "pc - 1" lookup
/// for callers lands on the call.
fn after_call(wasm: &[u8], offset: usize) -> usize {
    let uleb = |at: usize| -> Option<usize> {
        let len = wasm.get(at..)?.iter().position(|b| b & 0x80 == 0)?;
        Some(at + len + 1)
    };
    let next = match wasm.get(offset) {
        // call f, call_ref t, return_call f, return_call_ref t
        Some(0x10 | 0x12 | 0x14 | 0x15) => uleb(offset + 1),
        // call_indirect t tab, return_call_indirect t tab
        Some(0x11 | 0x13) => uleb(offset + 1).and_then(uleb),
        _ => None,
    };
    next.unwrap_or(offset + 1)
}

impl Target for Server<'_> {
    type Arch = Wasm;
    type Error = TimelineError;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_lldb_register_info_override(
        &mut self,
    ) -> Option<LldbRegisterInfoOverrideOps<'_, Self>> {
        Some(self)
    }

    fn support_libraries(&mut self) -> Option<LibrariesOps<'_, Self>> {
        Some(self)
    }

    fn support_host_info(&mut self) -> Option<HostInfoOps<'_, Self>> {
        Some(self)
    }

    fn support_process_info(&mut self) -> Option<ProcessInfoOps<'_, Self>> {
        Some(self)
    }

    fn support_wasm(&mut self) -> Option<WasmOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for Server<'_> {
    fn read_registers(&mut self, regs: &mut WasmRegisters) -> TargetResult<(), Self> {
        regs.pc = self.pc();
        Ok(())
    }

    fn write_registers(&mut self, _regs: &WasmRegisters) -> TargetResult<(), Self> {
        // A recorded run cannot be changed.
        Err(TargetError::NonFatal)
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start_addr: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        let addr = WasmAddr::from_raw(start_addr).ok_or(TargetError::NonFatal)?;
        let offset = addr.offset() as usize;
        let source = match addr.addr_type() {
            WasmAddrType::Object if addr.module_index() == 0 => self.wasm,
            WasmAddrType::Memory => {
                let memory = self
                    .memory(addr.module_index())
                    .ok_or(TargetError::NonFatal)?;
                self.session.timeline.store().memory_data(memory)
            }
            WasmAddrType::Object => return Err(TargetError::NonFatal),
        };
        let bytes = source.get(offset..).ok_or(TargetError::NonFatal)?;
        if bytes.is_empty() && !data.is_empty() {
            return Err(TargetError::NonFatal);
        }
        Ok(put_bytes(bytes, data))
    }

    fn write_addrs(&mut self, _start_addr: u64, _data: &[u8]) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<()> for Server<'_> {
    fn read_register(
        &mut self,
        _tid: (),
        reg_id: WasmRegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        match reg_id {
            WasmRegId::Pc => Ok(put_bytes(&self.pc().to_le_bytes(), buf)),
            _ => Err(TargetError::NonFatal),
        }
    }

    fn write_register(
        &mut self,
        _tid: (),
        _reg_id: WasmRegId,
        _val: &[u8],
    ) -> TargetResult<(), Self> {
        Err(TargetError::NonFatal)
    }
}

impl SingleThreadResume for Server<'_> {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        // Signals are not delivered: a trap stays where it is.
        self.resume = Resume::Continue;
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_reverse_step(&mut self) -> Option<ReverseStepOps<'_, (), Self>> {
        Some(self)
    }

    fn support_reverse_cont(&mut self) -> Option<ReverseContOps<'_, (), Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for Server<'_> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.resume = Resume::Step;
        Ok(())
    }
}

impl ReverseCont<()> for Server<'_> {
    fn reverse_cont(&mut self) -> Result<(), Self::Error> {
        self.resume = Resume::ReverseContinue;
        Ok(())
    }
}

impl ReverseStep<()> for Server<'_> {
    fn reverse_step(&mut self, _tid: ()) -> Result<(), Self::Error> {
        self.resume = Resume::ReverseStep;
        Ok(())
    }
}

impl Breakpoints for Server<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for Server<'_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(match self.breakpoint(addr) {
            Some(bp) => self.session.timeline.add_breakpoint(bp),
            None => false,
        })
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(match self.breakpoint(addr) {
            Some(bp) => self.session.timeline.remove_breakpoint(bp),
            None => false,
        })
    }
}

impl HwWatchpoint for Server<'_> {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        // The timeline watches one range at a time (reads by stepping one instruction at a time).
        if self.watch.is_some() {
            return Ok(false);
        }
        let Some(watch) = self.watchpoint(addr, len, kind) else {
            return Ok(false);
        };
        // A range outside the memory (or of no bytes) is refused with an error reply; the session goes on.
        self.session
            .timeline
            .set_watchpoint(Some(watch))
            .map_err(|_| TargetError::NonFatal)?;
        self.watch = Some((addr, len));
        self.watch_kind = kind;
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        _kind: breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        if self.watch != Some((addr, len)) {
            return Ok(false);
        }
        self.session
            .timeline
            .set_watchpoint(None)
            .map_err(TargetError::Fatal)?;
        self.watch = None;
        Ok(true)
    }
}

impl LldbRegisterInfoOverride for Server<'_> {
    /// The one register, `pc`, marked as the generic pc: LLDB finds the breakpoint a stop is at through it.
    fn lldb_register_info<'a>(
        &mut self,
        reg_id: usize,
        reg_info: Callback<'a>,
    ) -> Result<CallbackToken<'a>, Self::Error> {
        use gdbstub::arch::lldb::{Encoding, Format, Generic, Register};
        Ok(match reg_id {
            0 => reg_info.write(Register {
                name: "pc",
                alt_name: None,
                bitsize: 64,
                offset: 0,
                encoding: Encoding::Uint,
                format: Format::Hex,
                set: "General Purpose Registers",
                gcc: None,
                dwarf: None,
                generic: Some(Generic::Pc),
                container_regs: None,
                invalidate_regs: None,
            }),
            _ => reg_info.done(),
        })
    }
}

impl Libraries for Server<'_> {
    fn get_libraries(
        &self,
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let doc = self.libraries.as_bytes();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(doc.len());
        let end = start.saturating_add(length).min(doc.len());
        Ok(put_bytes(&doc[start..end], buf))
    }
}

impl HostInfo for Server<'_> {
    fn host_info(
        &self,
        write_item: &mut dyn FnMut(&HostInfoResponse<'_>),
    ) -> Result<(), Self::Error> {
        write_item(&HostInfoResponse::Triple(TRIPLE));
        write_item(&HostInfoResponse::Endianness(
            gdbstub::common::Endianness::Little,
        ));
        write_item(&HostInfoResponse::PointerSize(4));
        Ok(())
    }
}

impl ProcessInfo for Server<'_> {
    fn process_info(
        &self,
        write_item: &mut dyn FnMut(&ProcessInfoResponse<'_>),
    ) -> Result<(), Self::Error> {
        let pid = gdbstub::common::Pid::new(1).expect("1 is not zero");
        write_item(&ProcessInfoResponse::Pid(pid));
        write_item(&ProcessInfoResponse::Triple(TRIPLE));
        write_item(&ProcessInfoResponse::Endianness(
            gdbstub::common::Endianness::Little,
        ));
        write_item(&ProcessInfoResponse::PointerSize(4));
        Ok(())
    }
}

impl WasmExt for Server<'_> {
    fn wasm_call_stack(
        &self,
        _tid: gdbstub::common::Tid,
        next_pc: &mut dyn FnMut(u64),
    ) -> Result<(), Self::Error> {
        for (i, at) in self
            .session
            .timeline
            .store()
            .backtrace()
            .into_iter()
            .enumerate()
        {
            let offset = if i == 0 {
                at.offset
            } else {
                after_call(self.wasm, at.offset)
            };
            next_pc(code_addr(offset));
        }
        Ok(())
    }

    fn read_wasm_local(
        &self,
        _tid: gdbstub::common::Tid,
        frame: usize,
        local: usize,
        buf: &mut [u8],
    ) -> Result<usize, Self::Error> {
        let frames = self.session.timeline.store().frames();
        Ok(frames
            .get(frame)
            .and_then(|f| f.locals.get(local))
            .map_or(0, |v| put_val(v, buf)))
    }

    fn read_wasm_stack(
        &self,
        _tid: gdbstub::common::Tid,
        frame: usize,
        index: usize,
        buf: &mut [u8],
    ) -> Result<usize, Self::Error> {
        // Operand cells carry no types: each reads as 64 bits (a v128 as two cells).
        let frames = self.session.timeline.store().frames();
        Ok(frames
            .get(frame)
            .and_then(|f| f.operands.iter().rev().nth(index))
            .map_or(0, |cell| put_bytes(&cell.to_le_bytes(), buf)))
    }

    fn read_wasm_global(
        &self,
        _tid: gdbstub::common::Tid,
        frame: usize,
        global: usize,
        buf: &mut [u8],
    ) -> Result<usize, Self::Error> {
        let store = self.session.timeline.store();
        let Some(view) = store.frames().into_iter().nth(frame) else {
            return Ok(0);
        };
        Ok(store
            .instance_globals(view.instance)
            .get(global)
            .map_or(0, |&g| put_val(&store.global_get(g), buf)))
    }
}

/// The lldb command line that attaches to a server on `port`. It first tells lldb not to pass the signals traps stop
/// with back to the process: lldb refuses to run backwards while it has a signal to deliver.
pub fn lldb_command(port: u16) -> String {
    format!(
        "lldb-22 -o \"process handle -p false SIGSEGV SIGFPE SIGILL SIGABRT\" \
         -o \"process connect --plugin wasm connect://localhost:{port}\""
    )
}

/// Binds the server's socket on the loopback interface (port 0: a free port, see `local_addr`).
pub fn listen(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_report_the_offset_after_their_call() {
        // call 3; call 200 (a two-byte LEB); call_indirect type 1 table 0; a non-call.
        let code = [0x10, 0x03, 0x10, 0xc8, 0x01, 0x11, 0x01, 0x00, 0x1a];
        assert_eq!(after_call(&code, 0), 2);
        assert_eq!(after_call(&code, 2), 5);
        assert_eq!(after_call(&code, 5), 8);
        assert_eq!(after_call(&code, 8), 9);
        // A LEB running off the end falls back to the byte after the opcode.
        assert_eq!(after_call(&[0x10, 0x80], 0), 1);
    }

    #[test]
    fn code_addresses_are_object_addresses_in_module_0() {
        assert_eq!(code_addr(0x200), 0x4000_0000_0000_0200);
        let addr = WasmAddr::from_raw(code_addr(0x1234)).expect("a valid address");
        assert_eq!(addr.addr_type(), WasmAddrType::Object);
        assert_eq!((addr.module_index(), addr.offset()), (0, 0x1234));
    }
}
