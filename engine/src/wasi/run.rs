//! The driver: runs a WASI command or reactor under a fuel budget, answering its host calls, and stops where a caller may take a snapshot (out of fuel, or at the first read of the program's input).

use super::ctx::{PendingCall, SavedVal, WasiCtx};
use super::{WasiError, is_wasi};
use crate::{
    Extern, Func, HostAnswer, HostCall, Instance, Memory, Outcome, Store, Trap, TrapKind, Val,
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
        let memory = Memory(self.memory.ok_or(WasiError::NoMemory)?);
        if let Some(pending) = self.pending.take()
            && let Some(done) = self.answer(store, memory, &pending.call())?
        {
            return Ok(RunStatus::Done(done));
        }
        let begin = store.fuel_consumed();
        loop {
            let used = store.fuel_consumed() - begin;
            if used >= fuel {
                return Ok(RunStatus::OutOfFuel);
            }
            match store.run(fuel - used) {
                Outcome::Finished(results) => {
                    if let Some(entry) = self.queued.take() {
                        store.invoke(Func(entry), &[])?;
                        continue;
                    }
                    return Ok(RunStatus::Done(CommandOutcome {
                        exit_code: 0,
                        trap: None,
                        results,
                    }));
                }
                Outcome::Trapped(trap) => {
                    self.queued = None;
                    return Ok(RunStatus::Done(CommandOutcome {
                        exit_code: TRAP_EXIT_CODE,
                        trap: Some(trap),
                        results: Vec::new(),
                    }));
                }
                Outcome::OutOfFuel => return Ok(RunStatus::OutOfFuel),
                Outcome::HostCall(call) => {
                    if !is_wasi(call.host_id) {
                        return Err(WasiError::UnknownHostCall(call.host_id));
                    }
                    if self.stop_at_input
                        && self.is_input_read(store, memory, &call)
                        && let Some(pending) = PendingCall::save(&call)
                    {
                        self.pending = Some(pending);
                        return Ok(RunStatus::InputRead);
                    }
                    if let Some(done) = self.answer(store, memory, &call)? {
                        return Ok(RunStatus::Done(done));
                    }
                }
            }
        }
    }

    /// Answers one host call; returns the outcome if the program ended with it.
    fn answer(
        &mut self,
        store: &mut Store,
        memory: Memory,
        call: &HostCall,
    ) -> Result<Option<CommandOutcome>, WasiError> {
        match self.handle(store, memory, call) {
            HostAnswer::Return(results) => {
                store.host_return(&results)?;
                Ok(None)
            }
            HostAnswer::Exit(code) => {
                // The call never returns: abandon the run.
                store.host_trap(TrapKind::Host(format!("proc_exit({code})")));
                self.queued = None;
                Ok(Some(CommandOutcome {
                    exit_code: code,
                    trap: None,
                    results: Vec::new(),
                }))
            }
            HostAnswer::Trap(kind) => {
                let trap = match store.host_trap(kind.clone()) {
                    Outcome::Trapped(trap) => trap,
                    _ => Trap::new(kind),
                };
                self.queued = None;
                Ok(Some(CommandOutcome {
                    exit_code: TRAP_EXIT_CODE,
                    trap: Some(trap),
                    results: Vec::new(),
                }))
            }
        }
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
