//! The timeline benchmark's workload, shared with its smoke test (`tests/timeline_workload.rs`): a program that
//! scatters stores, streams and loads over a 16 MiB memory in rounds, calling the host once a round, and the host
//! that answers it.

use capicola_engine::timeline::{Host, HostAnswer};
use capicola_engine::{
    Config, Engine, Extern, FuncType, HostCall, Linker, Memory, Module, Outcome, Store, TrapKind,
    Val, ValType,
};

/// The program; `main(rounds, scatter, stream, loads)` returns a checksum.
pub const WAT: &str = include_str!("workload.wat");

/// Written once, by one of the first instructions, and never again.
pub const EARLY_BYTE: u64 = 16;
/// The round number, written by the guest at the end of every round.
pub const ROUND_BYTE: u64 = 4160;
/// The host's running total, written by the host on every call.
pub const HOST_WORD: u64 = 4096;

/// How long the run is and what each round does.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub rounds: u32,
    /// Word stores at random addresses.
    pub scatter: u32,
    /// Bytes of streaming read-modify-write.
    pub stream: u32,
    /// Word loads at random addresses.
    pub loads: u32,
}

/// Answers `tick(round, checksum)`: folds both into a total it keeps, writes the total at [`HOST_WORD`] and
/// returns it.
#[derive(Debug, Clone)]
pub struct Ticker {
    pub total: i32,
    pub memory: Memory,
}

impl Ticker {
    fn tick(&mut self, store: &mut Store, call: &HostCall) -> Result<i32, TrapKind> {
        let [Val::I32(round), Val::I32(sum)] = call.args[..] else {
            return Err(TrapKind::Host(format!(
                "tick: bad arguments {:?}",
                call.args
            )));
        };
        self.total = self.total.wrapping_mul(31).wrapping_add(round ^ sum);
        store
            .write_memory(self.memory, HOST_WORD, &self.total.to_le_bytes())
            .map_err(|e| TrapKind::Host(e.to_string()))?;
        Ok(self.total)
    }
}

impl Host for Ticker {
    fn call(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        match self.tick(store, call) {
            Ok(total) => HostAnswer::Return(vec![Val::I32(total)]),
            Err(kind) => HostAnswer::Trap(kind),
        }
    }

    fn name(&self, _: u32) -> String {
        "tick".into()
    }
}

/// A store of an engine with or without dirty-page tracking, the workload instantiated and `main` invoked (not
/// run yet), and its host.
pub fn start(track_dirty_pages: bool, shape: Shape) -> (Store, Ticker) {
    let engine = Engine::new(Config {
        track_dirty_pages,
        ..Config::default()
    });
    let wasm = wat::parse_str(WAT).expect("the workload is valid WAT");
    let module = Module::new(&engine, &wasm).expect("the workload validates");
    let mut store = Store::new(&engine);
    let tick = store.new_host_func(
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32]),
        0,
    );
    let mut linker = Linker::new();
    linker.define("env", "tick", Extern::Func(tick));
    let inst = linker
        .instantiate(&mut store, &module)
        .expect("the workload's only import is defined");
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("the workload exports its memory")
    };
    let Some(Extern::Func(main)) = store.instance_export(inst, "main") else {
        panic!("the workload exports main")
    };
    let arg = |n: u32| Val::I32(n as i32);
    store
        .invoke(
            main,
            &[
                arg(shape.rounds),
                arg(shape.scatter),
                arg(shape.stream),
                arg(shape.loads),
            ],
        )
        .expect("main takes four i32");
    (store, Ticker { total: 0, memory })
}

/// Runs a started store with `Store::run` until `position` instructions have run or the run ends, answering
/// host calls; main's checksum if it ended.
pub fn run_until(store: &mut Store, host: &mut Ticker, position: u64) -> Option<i32> {
    while store.fuel_consumed() < position {
        match store.run(position - store.fuel_consumed()) {
            Outcome::OutOfFuel => {}
            Outcome::HostCall(call) => {
                let total = host.tick(store, &call).expect("tick is called right");
                store
                    .host_return(&[Val::I32(total)])
                    .expect("tick returns one i32");
            }
            Outcome::Finished(values) => match values[..] {
                [Val::I32(sum)] => return Some(sum),
                _ => panic!("main returns one i32, not {values:?}"),
            },
            Outcome::Trapped(trap) => panic!("the workload trapped: {trap:?}"),
        }
    }
    None
}

/// Runs a started store to the end; returns main's checksum.
pub fn run_plain(store: &mut Store, host: &mut Ticker) -> i32 {
    run_until(store, host, u64::MAX).expect("the workload ends")
}
