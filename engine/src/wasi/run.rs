//! Running a WASI command or reactor under a fuel budget (through `Store::drive`, answering its host calls from the context), stopping where a caller may take a snapshot: out of fuel, or at the first read of the program's input.

use super::ctx::{PendingCall, SavedVal, WasiCtx};
use super::{WasiError, is_wasi};
use crate::{
    Extern, Func, Halt, HostAnswer, HostCall, Instance, Memory, Pilot, Slicer, Store, Trap, Val,
    Whole,
};

/// The exit code reported for a trap: 128 + SIGABRT, as wasmtime's CLI exits on Unix.
pub const TRAP_EXIT_CODE: i32 = 134;

/// How a WASI program ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// The code given to `proc_exit`, 0 when the entry function returned, [`TRAP_EXIT_CODE`] after a trap.
    pub exit_code: i32,
    /// The trap, if the program trapped.
    pub trap: Option<Trap>,
    /// What the invoked function returned (for reactor exports called through [`WasiCtx::invoke`]).
    pub results: Vec<Val>,
}

/// Where [`WasiCtx::resume`] stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// The program ended.
    Done(CommandOutcome),
    /// The fuel budget ran out at an instruction boundary; `resume` continues.
    OutOfFuel,
    /// The program is about to read its input for the first time (only with `set_stop_at_input(true)`); the call
    /// is kept unanswered in the context, so a snapshot taken now (store + context) holds it, and `resume` answers
    /// it — with the input as it is then (see `set_stdin_bytes`, `set_file_contents`).
    InputRead,
}

impl PendingCall {
    fn save(call: &HostCall) -> Option<PendingCall> {
        let args = call
            .args
            .iter()
            .map(|v| match *v {
                Val::I32(x) => Some(SavedVal::I32(x)),
                Val::I64(x) => Some(SavedVal::I64(x)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(PendingCall {
            func: call.func.0,
            host_id: call.host_id,
            args,
        })
    }

    fn call(&self) -> HostCall {
        HostCall {
            func: Func(self.func),
            host_id: self.host_id,
            args: self
                .args
                .iter()
                .map(|v| match *v {
                    SavedVal::I32(x) => Val::I32(x),
                    SavedVal::I64(x) => Val::I64(x),
                })
                .collect(),
        }
    }
}

impl WasiCtx {
    /// Begins running a WASI module instantiated with [`super::define`]'s imports: its start function if it has
    /// one, then `_start` (a command) or `_initialize` (a reactor). [`WasiCtx::resume`] runs it.
    pub fn start(&mut self, store: &mut Store, instance: Instance) -> Result<(), WasiError> {
        let entry = ["_start", "_initialize"]
            .iter()
            .find_map(|name| match store.instance_export(instance, name) {
                Some(Extern::Func(f)) => Some(f),
                _ => None,
            })
            .ok_or(WasiError::NoEntry)?;
        self.then_call(store, instance, entry)
    }

    /// Begins a call of `func` (for example a reactor's export, after `_initialize` finished) with `args`;
    /// [`WasiCtx::resume`] runs it and returns its results in [`CommandOutcome::results`].
    pub fn invoke(
        &mut self,
        store: &mut Store,
        instance: Instance,
        func: Func,
        args: &[Val],
    ) -> Result<(), WasiError> {
        self.set_memory(store, instance)?;
        store.invoke(func, args)?;
        Ok(())
    }

    fn set_memory(&mut self, store: &Store, instance: Instance) -> Result<(), WasiError> {
        match store.instance_export(instance, "memory") {
            Some(Extern::Memory(m)) => {
                self.memory = Some(m.index());
                Ok(())
            }
            _ => Err(WasiError::NoMemory),
        }
    }

    fn then_call(
        &mut self,
        store: &mut Store,
        instance: Instance,
        entry: Func,
    ) -> Result<(), WasiError> {
        self.set_memory(store, instance)?;
        match store.instance_start(instance) {
            Some(start) => {
                self.queued = Some(entry.0);
                store.invoke(start, &[])?;
            }
            None => store.invoke(entry, &[])?,
        }
        Ok(())
    }

    /// Runs the program on with at most `fuel` more instructions, answering WASI calls, until it ends, the fuel
    /// runs out, or (with `set_stop_at_input(true)`) it is about to read its input.
    pub fn resume(&mut self, store: &mut Store, fuel: u64) -> Result<RunStatus, WasiError> {
        self.resume_sliced(store, fuel, &mut Whole)
            .map(|stop| stop.expect("whole fuel is never interrupted"))
    }

    /// As [`WasiCtx::resume`], with the fuel given in the slices `slicer` chooses: `None` when the slicer ended the
    /// run between two slices (the program is paused, and `resume` continues it).
    pub fn resume_sliced<S: Slicer + ?Sized>(
        &mut self,
        store: &mut Store,
        fuel: u64,
        slicer: &mut S,
    ) -> Result<Option<RunStatus>, WasiError> {
        let memory = Memory(self.memory.ok_or(WasiError::NoMemory)?);
        if let Some(pending) = self.pending.take() {
            let answer = self.handle(store, memory, &pending.call());
            if let Some(halt) = store.answer_host_call(answer)? {
                return Ok(Some(self.ended(halt)));
            }
        }
        let begin = store.fuel_consumed();
        loop {
            let left = fuel - (store.fuel_consumed() - begin);
            let mut pilot = WasiPilot {
                ctx: self,
                memory,
                slicer: &mut *slicer,
            };
            match store.drive(left, &mut pilot)? {
                Halt::Finished(_) if self.queued.is_some() => {
                    let entry = self.queued.take().expect("checked above");
                    store.invoke(Func(entry), &[])?;
                }
                Halt::OutOfFuel => return Ok(Some(RunStatus::OutOfFuel)),
                Halt::Interrupted => return Ok(None),
                Halt::Held(call) => {
                    if !is_wasi(call.host_id) {
                        return Err(WasiError::UnknownHostCall(call.host_id));
                    }
                    self.pending = PendingCall::save(&call);
                    return Ok(Some(RunStatus::InputRead));
                }
                halt => return Ok(Some(self.ended(halt))),
            }
        }
    }

    /// The outcome of a program whose run halted at its end.
    fn ended(&mut self, halt: Halt) -> RunStatus {
        self.queued = None;
        let (exit_code, trap, results) = match halt {
            Halt::Finished(results) => (0, None, results),
            Halt::Trapped(trap) => (TRAP_EXIT_CODE, Some(trap), Vec::new()),
            Halt::Exited { code, .. } => (code, None, Vec::new()),
            Halt::OutOfFuel | Halt::Interrupted | Halt::Held(_) => {
                unreachable!("the run is paused, not ended")
            }
        };
        RunStatus::Done(CommandOutcome {
            exit_code,
            trap,
            results,
        })
    }
}

/// Answers a WASI program's calls from its context, holds its first read of the input when asked to, and leaves
/// the slicing of the fuel to the caller's slicer.
struct WasiPilot<'a, S: ?Sized> {
    ctx: &'a mut WasiCtx,
    memory: Memory,
    slicer: &'a mut S,
}

impl<S: Slicer + ?Sized> Pilot for WasiPilot<'_, S> {
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        self.ctx.handle(store, self.memory, call)
    }

    /// Held: a call of a function that is not WASI's (an error), and with `set_stop_at_input` the first read of
    /// the input (a snapshot taken then holds the call, and `resume` answers it with the input as it is then).
    fn hold(&mut self, store: &Store, call: &HostCall) -> bool {
        !is_wasi(call.host_id)
            || (self.ctx.stop_at_input
                && self.ctx.is_input_read(store, self.memory, call)
                && PendingCall::save(call).is_some())
    }

    fn next_slice(&mut self, store: &mut Store, left: u64) -> Option<u64> {
        self.slicer.next_slice(store, left)
    }

    fn ran_out(&mut self, store: &mut Store, slice: u64) {
        self.slicer.ran_out(store, slice);
    }
}

/// Runs a WASI command (or a reactor's `_initialize`) to its end with unlimited fuel.
pub fn run_command(
    store: &mut Store,
    instance: Instance,
    ctx: &mut WasiCtx,
) -> Result<CommandOutcome, WasiError> {
    ctx.start(store, instance)?;
    loop {
        if let RunStatus::Done(outcome) = ctx.resume(store, u64::MAX)? {
            return Ok(outcome);
        }
    }
}
