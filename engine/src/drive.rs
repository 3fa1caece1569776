//! The one loop that runs a call to where it halts: [`Store::drive`] gives the call its fuel (whole, or in the
//! slices a [`Pilot`] chooses), answers its host calls with the pilot's [`HostAnswer`]s, and reports how it halted.
//!
//! Every embedder runs calls through it: WASI programs (`WasiCtx::resume`), the fuzzer's targets, the CLI's
//! programs, the spec-test runner, the differential engines and [`Store::call`]. Only the debugger's timeline answers
//! host calls itself, because it records each answer and leaves a trapping call paused before its trap.

use crate::error::{Error, FrameInfo, Trap, TrapKind};
use crate::store::{HostCall, Outcome, Store};
use crate::value::{Func, Val};

/// A host's answer to a call from guest code: the one answer type of every host (WASI, the debugger's
/// recording, the fuzz targets' harness functions).
#[derive(Debug, Clone, PartialEq)]
pub enum HostAnswer {
    /// The call returns these results (`Store::host_return`).
    Return(Vec<Val>),
    /// The call ends the program with this code (WASI `proc_exit`): it never returns.
    Exit(i32),
    /// The call traps (`Store::host_trap`), for example when called with arguments of the wrong types.
    Trap(TrapKind),
}

/// Answers host calls for [`Store::call`] (any such closure is a [`Pilot`]).
pub type HostHandler<'a> = dyn FnMut(&mut Store, &HostCall) -> HostAnswer + 'a;

/// How a call run by [`Store::drive`] halted.
#[derive(Debug, Clone, PartialEq)]
pub enum Halt {
    /// The call returned these results; the store is idle.
    Finished(Vec<Val>),
    /// Guest code trapped, or the host answered with a trap (the trap's backtrace is the host call's); the store
    /// is idle.
    Trapped(Trap),
    /// The host ended the program with `code` ([`HostAnswer::Exit`]) at a call made from `backtrace`; the store
    /// is idle.
    Exited {
        code: i32,
        backtrace: Vec<FrameInfo>,
    },
    /// The whole fuel budget was used (or a debugger hook stopped the run's last slice, see `Store::run`); the
    /// call is paused and driving it again continues it.
    OutOfFuel,
    /// The pilot ended the run between two slices ([`Pilot::next_slice`]); the call is paused.
    Interrupted,
    /// The pilot held this host call ([`Pilot::hold`]): the store waits for its answer
    /// ([`Store::answer_host_call`]).
    Held(HostCall),
}

/// The caller's side of a driven call: it answers host calls and may cut the fuel into slices (to look at a clock,
/// or to do something at a pause) or hold a host call unanswered.
pub trait Pilot {
    /// Answers a call of the guest to a host function.
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer;

    /// Whether to halt with `call` unanswered ([`Halt::Held`]) instead of answering it now. Never by default.
    fn hold(&mut self, _store: &Store, _call: &HostCall) -> bool {
        false
    }

    /// The fuel of the next slice, at most `left` (more than 0), or `None` to halt now ([`Halt::Interrupted`]).
    /// All of it by default: the call then runs exactly as with no slicing at all.
    fn next_slice(&mut self, _store: &mut Store, left: u64) -> Option<u64> {
        Some(left)
    }

    /// A slice of `slice` fuel ran out with more fuel left in the budget; the call is paused at an instruction
    /// boundary (the pilot may even replace the store by an equivalent one, restored from a snapshot).
    fn ran_out(&mut self, _store: &mut Store, _slice: u64) {}
}

/// The slicing half of a [`Pilot`], for a caller that leaves answering host calls to another (as
/// `WasiCtx::resume_sliced` does).
pub trait Slicer {
    /// As [`Pilot::next_slice`].
    fn next_slice(&mut self, store: &mut Store, left: u64) -> Option<u64>;

    /// As [`Pilot::ran_out`].
    fn ran_out(&mut self, _store: &mut Store, _slice: u64) {}
}

/// The fuel in one slice: all of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Whole;

impl Slicer for Whole {
    fn next_slice(&mut self, _store: &mut Store, left: u64) -> Option<u64> {
        Some(left)
    }
}

impl<F: FnMut(&mut Store, &HostCall) -> HostAnswer + ?Sized> Pilot for F {
    fn answer(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        self(store, call)
    }
}

impl Store {
    /// Runs the call in progress with a budget of `fuel` instructions until it halts, answering its host calls
    /// with `pilot`. An error (a host answer of the wrong types) ends the call.
    pub fn drive<P: Pilot + ?Sized>(&mut self, fuel: u64, pilot: &mut P) -> Result<Halt, Error> {
        // Fuel used so far, summed run by run: a pilot may replace the store between slices by one restored from a
        // snapshot, whose own count of fuel consumed is not this one's.
        let mut used = 0u64;
        loop {
            let left = fuel.saturating_sub(used);
            if left == 0 {
                return Ok(Halt::OutOfFuel);
            }
            let Some(slice) = pilot.next_slice(self, left) else {
                return Ok(Halt::Interrupted);
            };
            let slice = slice.min(left);
            let before = self.fuel_consumed();
            let outcome = self.run(slice);
            used = used.saturating_add(self.fuel_consumed().saturating_sub(before));
            match outcome {
                Outcome::Finished(results) => return Ok(Halt::Finished(results)),
                Outcome::Trapped(trap) => return Ok(Halt::Trapped(trap)),
                // The whole fuel left ran out (an instruction may cost more than there is left: it pays what is
                // left and is reached again).
                Outcome::OutOfFuel if slice == left => return Ok(Halt::OutOfFuel),
                Outcome::OutOfFuel => pilot.ran_out(self, slice),
                Outcome::HostCall(call) => {
                    if pilot.hold(self, &call) {
                        return Ok(Halt::Held(call));
                    }
                    // A host may charge fuel for its work.
                    let before = self.fuel_consumed();
                    let answer = pilot.answer(self, &call);
                    let halt = self.answer_host_call(answer)?;
                    used = used.saturating_add(self.fuel_consumed().saturating_sub(before));
                    if let Some(halt) = halt {
                        return Ok(halt);
                    }
                }
            }
        }
    }

    /// Applies `answer` to the host call the store waits on: returns the halt it ends the call with (an exit or a
    /// trap), or `None` when the call returned and the run goes on. An error (results of the wrong types) ends the
    /// call.
    pub fn answer_host_call(&mut self, answer: HostAnswer) -> Result<Option<Halt>, Error> {
        match answer {
            HostAnswer::Return(results) => match self.host_return(&results) {
                Ok(()) => Ok(None),
                Err(error) => {
                    self.abort();
                    Err(error)
                }
            },
            HostAnswer::Exit(code) => {
                // The call never returns: the program ends where it made the call.
                let backtrace = self.backtrace();
                self.abort();
                Ok(Some(Halt::Exited { code, backtrace }))
            }
            HostAnswer::Trap(kind) => Ok(Some(Halt::Trapped(self.host_trap(kind)))),
        }
    }

    /// Calls `f` to completion with unlimited fuel, answering host calls with `host`. A host that ends the
    /// program ([`HostAnswer::Exit`]) ends the call with a trap [`TrapKind::Host`] naming the exit code.
    pub fn call(
        &mut self,
        f: Func,
        args: &[Val],
        host: &mut HostHandler<'_>,
    ) -> Result<Result<Vec<Val>, Trap>, Error> {
        self.invoke(f, args)?;
        loop {
            match self.drive(u64::MAX, host)? {
                Halt::Finished(results) => return Ok(Ok(results)),
                Halt::Trapped(trap) => return Ok(Err(trap)),
                Halt::Exited { code, backtrace } => {
                    return Ok(Err(Trap {
                        kind: TrapKind::Host(format!("exit({code})")),
                        backtrace,
                    }));
                }
                // A debugger hook stopped the run (the budget is unlimited): go on.
                Halt::OutOfFuel | Halt::Interrupted | Halt::Held(_) => {}
            }
        }
    }
}
