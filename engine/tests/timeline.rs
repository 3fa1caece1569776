//! The timeline: every position reached through checkpoints and replay equals the same position of a straight run;
//! breakpoints, watches and `last_write` find what brute-force single-stepping finds.

#![allow(clippy::unwrap_used)]

use capicola_engine::timeline::{
    Breakpoint, End, Host, HostAnswer, Stop, Timeline, TimelineConfig, TimelineError, WATCH_WINDOW,
    WatchKind, Watchpoint,
};
use capicola_engine::{
    Config, Engine, Extern, Func, FuncType, HostCall, Linker, Memory, Module, Outcome, Store, Val,
    ValType,
};

/// Fills memory with a running hash, calls `$mix` in a loop (which calls the host now and then), writes a
/// "corrupted" byte at 300, then reads an address derived from it and traps out of bounds.
const PROGRAM: &str = r#"
(module
  (import "env" "tick" (func $tick (param i32) (result i32)))
  (memory (export "memory") 2)
  (global $g (mut i32) (i32.const 7))
  (func $mix (param $i i32) (result i32)
    (local $x i32)
    (local.set $x (i32.mul (local.get $i) (i32.const 2654435761)))
    (global.set $g (i32.xor (global.get $g) (local.get $x)))
    (if (i32.eqz (i32.and (local.get $i) (i32.const 63)))
      (then (local.set $x (i32.add (local.get $x) (call $tick (local.get $i))))))
    (local.get $x))
  (func (export "main") (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (i32.store (i32.and (i32.mul (local.get $i) (i32.const 4)) (i32.const 0xfffc))
        (call $mix (local.get $i)))
      (i32.store8 (i32.const 300) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 3000))))
    (i32.store8 (i32.const 301) (i32.const 0x7f))
    (i32.load (i32.mul (i32.load8_u (i32.const 301)) (i32.const 0x10000)))))
"#;

/// Adds its argument to a counter it keeps, writes the counter at address 1000 and returns it.
#[derive(Debug, Clone, Default)]
struct Counter {
    total: i32,
    memory: Option<Memory>,
}

impl Host for Counter {
    fn call(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        let Val::I32(x) = call.args[0] else {
            return HostAnswer::Trap(capicola_engine::TrapKind::Host("bad arg".into()));
        };
        self.total = self.total.wrapping_add(x);
        store
            .write_memory(self.memory.unwrap(), 1000, &self.total.to_le_bytes())
            .unwrap();
        HostAnswer::Return(vec![Val::I32(self.total)])
    }

    fn name(&self, _: u32) -> String {
        "tick".into()
    }
}

fn start() -> (Store, Counter, Func) {
    let engine = Engine::new(Config {
        track_dirty_pages: true,
        ..Config::default()
    });
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let tick = store.new_host_func(FuncType::new([ValType::I32], [ValType::I32]), 1);
    let mut linker = Linker::new();
    linker.define("env", "tick", Extern::Func(tick));
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("no memory")
    };
    let Some(Extern::Func(main)) = store.instance_export(inst, "main") else {
        panic!("no main")
    };
    store.invoke(main, &[]).unwrap();
    let host = Counter {
        total: 0,
        memory: Some(memory),
    };
    (store, host, main)
}

/// Everything observable about a paused store.
fn digest(store: &Store, host: &Counter) -> (Vec<u8>, String, i32) {
    let memory = Memory::clone(&host.memory.unwrap());
    (
        store.memory_data(memory).to_vec(),
        format!("{:?}", store.frames()),
        host.total,
    )
}

/// A straight run to `pos` (single host-call answers as the timeline gives them).
fn straight(pos: u64) -> (Store, Counter) {
    let (mut store, mut host, _) = start();
    let mut left = pos;
    loop {
        let before = store.fuel_consumed();
        let outcome = store.run(left);
        left -= store.fuel_consumed() - before;
        match outcome {
            Outcome::HostCall(call) => {
                let HostAnswer::Return(v) = host.call(&mut store, &call) else {
                    panic!()
                };
                store.host_return(&v).unwrap();
                if left == 0 {
                    return (store, host);
                }
            }
            Outcome::OutOfFuel => return (store, host),
            other => panic!("straight run ended: {other:?}"),
        }
    }
}

fn config(interval: u64) -> TimelineConfig {
    TimelineConfig {
        interval,
        ..TimelineConfig::default()
    }
}

fn timeline(interval: u64) -> Timeline<Counter> {
    let (store, host, _) = start();
    Timeline::new(store, host, config(interval)).unwrap()
}

fn end_of(t: &mut Timeline<Counter>) -> u64 {
    assert_eq!(t.continue_forward().unwrap(), Stop::End);
    t.end().unwrap().0
}

#[test]
fn runs_to_the_trap_and_stops_before_it() {
    let mut t = timeline(1000);
    let end = end_of(&mut t);
    let Some((_, End::Trapped(trap))) = t.end() else {
        panic!("{:?}", t.end())
    };
    assert_eq!(trap.kind, capicola_engine::TrapKind::MemoryOutOfBounds);
    // Paused just before the faulting load, which is where the trap's backtrace points.
    assert_eq!(t.position(), end);
    assert_eq!(t.store().position().unwrap(), trap.backtrace[0]);
    // The straight run to the same position is the same state.
    let (store, host) = straight(end);
    assert_eq!(digest(t.store(), t.host()), digest(&store, &host));
    // Nothing goes past the end.
    assert_eq!(t.step().unwrap(), Stop::End);
    assert_eq!(t.position(), end);
}

#[test]
fn every_sampled_position_equals_the_straight_run() {
    let mut t = timeline(997);
    let end = end_of(&mut t);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut positions: Vec<u64> = (0..40)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % (end + 1)
        })
        .collect();
    positions.extend([0, 1, 996, 997, 998, end - 1, end]);
    for pos in positions {
        t.seek(pos).unwrap();
        assert_eq!(t.position(), pos);
        let (store, host) = straight(pos);
        assert!(
            digest(t.store(), t.host()) == digest(&store, &host),
            "state differs at position {pos}"
        );
    }
}

#[test]
fn stepping_back_from_the_end_retraces_the_run() {
    let mut t = timeline(500);
    let end = end_of(&mut t);
    for back in 1..=1200u64 {
        assert_eq!(t.step_back().unwrap(), Stop::Reached);
        assert_eq!(t.position(), end - back);
        if back % 150 == 0 {
            let (store, host) = straight(end - back);
            assert!(digest(t.store(), t.host()) == digest(&store, &host));
        }
    }
    // Forward again reaches the same trap with the same state.
    let before = digest(t.store(), t.host());
    assert_eq!(t.continue_forward().unwrap(), Stop::End);
    let (store, host) = straight(end);
    assert_eq!(digest(t.store(), t.host()), digest(&store, &host));
    t.seek(end - 1200).unwrap();
    assert_eq!(digest(t.store(), t.host()), before);
}

/// Positions (before the op) at which the straight run enters function `func_index`.
fn entries(func_index: u32, limit: u64) -> Vec<u64> {
    let (mut store, mut host, _) = start();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut depth = store.depth();
    while pos < limit {
        let outcome = store.run(1);
        match outcome {
            Outcome::HostCall(call) => {
                let HostAnswer::Return(v) = host.call(&mut store, &call) else {
                    panic!()
                };
                store.host_return(&v).unwrap();
            }
            Outcome::OutOfFuel => {}
            _ => break,
        }
        pos = store.fuel_consumed();
        if store.depth() > depth && store.position().unwrap().func_index == func_index {
            out.push(pos);
        }
        depth = store.depth();
    }
    out
}

#[test]
fn breakpoints_stop_forwards_and_backwards_at_every_hit() {
    let mut t = timeline(777);
    let end = end_of(&mut t);
    t.seek(0).unwrap();
    // $mix is function 1 (after the import); its first instruction.
    let module = t.store().modules()[0].clone();
    let bp = Breakpoint {
        func_index: 1,
        offset: module.func_code_start(1).unwrap(),
    };
    assert!(t.add_breakpoint(bp));
    let expected = entries(1, end);
    assert_eq!(expected.len(), 3000);
    let mut hits = Vec::new();
    loop {
        match t.continue_forward().unwrap() {
            Stop::Breakpoint(b) => {
                assert_eq!(b, bp);
                hits.push(t.position());
            }
            Stop::End => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(hits, expected);
    // Backwards from the end: the hits again, latest first.
    for &want in expected.iter().rev().take(25) {
        assert_eq!(t.continue_backward().unwrap(), Stop::Breakpoint(bp));
        assert_eq!(t.position(), want);
    }
    // Without breakpoints, reverse continue goes to the start.
    assert!(t.remove_breakpoint(bp));
    assert_eq!(t.continue_backward().unwrap(), Stop::Start);
    assert_eq!(t.position(), 0);
}

/// Brute force: the position before each instruction that changed `len` bytes at `addr`, by single-stepping.
fn changes(addr: usize, len: usize, limit: u64) -> Vec<u64> {
    let (mut store, mut host, _) = start();
    let memory = host.memory.unwrap();
    let mut out = Vec::new();
    let mut last = store.memory_data(memory)[addr..addr + len].to_vec();
    while store.fuel_consumed() < limit {
        let pos = store.fuel_consumed();
        match store.run(1) {
            Outcome::HostCall(call) => {
                let HostAnswer::Return(v) = host.call(&mut store, &call) else {
                    panic!()
                };
                store.host_return(&v).unwrap();
            }
            Outcome::OutOfFuel => {}
            _ => break,
        }
        let now = store.memory_data(memory)[addr..addr + len].to_vec();
        if now != last {
            out.push(pos);
            last = now;
        }
    }
    out
}

#[test]
fn last_write_names_the_instruction_that_wrote() {
    let mut t = timeline(1000);
    let end = end_of(&mut t);
    let memory = t.host().memory.unwrap();
    // Byte 301: written once, by the `i32.store8` just before the faulting load.
    let hit = t.last_write(memory, 301, 1).unwrap().unwrap();
    assert_eq!(t.position(), end, "last_write leaves the position alone");
    assert_eq!(hit.new, vec![0x7f]);
    // (The loop's word stores also covered it, long before.)
    assert_eq!(*changes(301, 1, end).last().unwrap(), hit.position);
    assert!(hit.host.is_none());
    let loc = hit.location.unwrap();
    assert_eq!(loc.func_index, 2);
    // Byte 300 changes on every iteration: the latest change is the latest write.
    let hit = t.last_write(memory, 300, 1).unwrap().unwrap();
    assert_eq!(*changes(300, 1, end).last().unwrap(), hit.position);
    // Address 1000 is written by the host.
    let hit = t.last_write(memory, 1000, 4).unwrap().unwrap();
    assert_eq!(hit.host.as_deref(), Some("tick"));
    assert_eq!(*changes(1000, 4, end).last().unwrap(), hit.position);
    // Earlier positions see earlier writes.
    let mid = end / 2;
    t.seek(mid).unwrap();
    let hit = t.last_write(memory, 300, 1).unwrap().unwrap();
    let before_mid: Vec<u64> = changes(300, 1, mid)
        .into_iter()
        .filter(|&p| p < mid)
        .collect();
    assert_eq!(*before_mid.last().unwrap(), hit.position);
    // A byte nothing writes.
    assert!(t.last_write(memory, 60000, 1).unwrap().is_none());
}

#[test]
fn watchpoints_stop_at_each_change_both_ways() {
    let mut t = timeline(1000);
    let end = end_of(&mut t);
    let memory = t.host().memory.unwrap();
    let expected = changes(300, 1, end);
    t.seek(0).unwrap();
    t.set_watchpoint(Some(Watchpoint {
        memory,
        addr: 300,
        len: 1,
        kind: WatchKind::Change,
    }))
    .unwrap();
    let mut seen = Vec::new();
    while let Stop::Watch(hit) = t.continue_forward().unwrap() {
        assert_eq!(t.position(), hit.position + 1);
        assert_ne!(hit.old, hit.new);
        seen.push(hit.position);
    }
    assert_eq!(seen, expected);
    for &want in expected.iter().rev().take(10) {
        let Stop::Watch(hit) = t.continue_backward().unwrap() else {
            panic!()
        };
        assert_eq!(hit.position, want);
        assert_eq!(t.position(), want, "backwards stops before the write");
    }
}

#[test]
fn step_over_and_out_keep_to_the_frame() {
    let mut t = timeline(1000);
    let bp_module = t.store().modules()[0].clone();
    let bp = Breakpoint {
        func_index: 1,
        offset: bp_module.func_code_start(1).unwrap(),
    };
    t.add_breakpoint(bp);
    assert_eq!(t.continue_forward().unwrap(), Stop::Breakpoint(bp));
    t.remove_breakpoint(bp);
    assert_eq!(t.store().depth(), 2);
    let inside = t.position();
    assert_eq!(t.step_out().unwrap(), Stop::Reached);
    assert_eq!(t.store().depth(), 1);
    let after = t.position();
    // Back out again: to the call instruction in main.
    assert_eq!(t.step_back_over().unwrap(), Stop::Reached);
    assert_eq!(t.store().depth(), 1);
    assert!(t.position() < inside);
    let call_at = t.position();
    // Over the call in one step.
    assert_eq!(t.step_over().unwrap(), Stop::Reached);
    assert_eq!(t.position(), after);
    // Step in, then back out to the call.
    t.seek(call_at).unwrap();
    t.step().unwrap();
    assert_eq!(t.store().depth(), 2);
    assert_eq!(t.step_back_out().unwrap(), Stop::Reached);
    assert_eq!(t.position(), call_at);
}

#[test]
fn checkpoints_stay_few_and_within_budget() {
    let (store, host, _) = start();
    let mut t = Timeline::new(
        store,
        host,
        TimelineConfig {
            interval: 100,
            dense: 4,
            budget: 64 << 10,
            ..TimelineConfig::default()
        },
    )
    .unwrap();
    let end = end_of(&mut t);
    let kept = t.checkpoints();
    assert!(end / 100 > 500, "the run is long enough to thin: {end}");
    assert!(kept.len() < 60, "{} checkpoints kept", kept.len());
    assert!(t.memory_used() <= 64 << 10, "{} bytes", t.memory_used());
    assert_eq!(kept[0], 0);
    // Still exact everywhere.
    for pos in [end / 3, end / 7, 5, end - 1] {
        t.seek(pos).unwrap();
        let (store, host) = straight(pos);
        assert!(digest(t.store(), t.host()) == digest(&store, &host));
    }
}

#[test]
fn a_host_that_answers_differently_on_replay_is_reported() {
    #[derive(Debug, Clone)]
    struct Flaky(std::rc::Rc<std::cell::Cell<i32>>);
    impl Host for Flaky {
        fn call(&mut self, _: &mut Store, _: &HostCall) -> HostAnswer {
            let n = self.0.get();
            self.0.set(n + 1);
            HostAnswer::Return(vec![Val::I32(n)])
        }
    }
    let (store, _, _) = start();
    // One checkpoint only, so going forward again replays the host calls.
    let mut t = Timeline::new(store, Flaky(Default::default()), config(1 << 40)).unwrap();
    t.seek(5000).unwrap();
    let err = t.seek(10).and_then(|_| t.seek(5000)).unwrap_err();
    assert!(err.to_string().contains("diverged"), "{err}");
}

/// Brute force: positions before each instruction that reads or writes `[addr, addr + len)`.
fn accesses(addr: u64, len: u64, limit: u64) -> Vec<(u64, bool)> {
    let (mut store, mut host, _) = start();
    let mut out = Vec::new();
    while store.fuel_consumed() < limit {
        let pos = store.fuel_consumed();
        for a in store.next_accesses() {
            if a.addr < addr + len && a.addr + a.len > addr {
                out.push((pos, a.write));
            }
        }
        match store.run(1) {
            Outcome::HostCall(call) => {
                let HostAnswer::Return(v) = host.call(&mut store, &call) else {
                    panic!()
                };
                store.host_return(&v).unwrap();
            }
            Outcome::OutOfFuel => {}
            _ => break,
        }
    }
    out
}

#[test]
fn read_watches_stop_at_every_read_both_ways() {
    let mut t = timeline(1000);
    let end = end_of(&mut t);
    let memory = t.host().memory.unwrap();
    let expected = accesses(301, 1, end);
    let reads: Vec<u64> = expected.iter().filter(|a| !a.1).map(|a| a.0).collect();
    assert_eq!(reads.len(), 1, "{expected:?}");
    for (kind, want) in [
        (WatchKind::Read, reads.clone()),
        (
            WatchKind::Access,
            expected.iter().map(|a| a.0).collect::<Vec<_>>(),
        ),
    ] {
        t.seek(0).unwrap();
        t.set_watchpoint(Some(Watchpoint {
            memory,
            addr: 301,
            len: 1,
            kind,
        }))
        .unwrap();
        let mut seen = Vec::new();
        while let Stop::Watch(hit) = t.continue_forward().unwrap() {
            assert_eq!(t.position(), hit.position + 1);
            seen.push(hit.position);
        }
        assert_eq!(seen, want, "{kind:?} forwards");
        let Stop::Watch(hit) = t.continue_backward().unwrap() else {
            panic!("{kind:?} backwards")
        };
        assert_eq!(hit.position, *want.last().unwrap());
        assert!(!hit.write || kind == WatchKind::Access);
        assert_eq!(t.position(), hit.position);
    }
    // The read is the load whose result leads to the trap: at the end's own function.
    t.set_watchpoint(None).unwrap();
}

/// Runs one instruction of a straight run, answering a host call it makes; false once the run has ended.
fn step_straight(store: &mut Store, host: &mut Counter) -> bool {
    match store.run(1) {
        Outcome::HostCall(call) => {
            let HostAnswer::Return(v) = host.call(store, &call) else {
                panic!()
            };
            store.host_return(&v).unwrap();
            true
        }
        Outcome::OutOfFuel => true,
        _ => false,
    }
}

/// Brute force: for each instruction before `limit` that changed memory, its position, the first byte it changed
/// and how many it changed.
fn memory_changes(limit: u64) -> Vec<(u64, u64, u64)> {
    let (mut store, mut host, _) = start();
    let memory = host.memory.unwrap();
    let mut last = store.memory_data(memory).to_vec();
    let mut out = Vec::new();
    while store.fuel_consumed() < limit {
        let pos = store.fuel_consumed();
        if !step_straight(&mut store, &mut host) {
            break;
        }
        let now = store.memory_data(memory);
        if now != &last[..] {
            let diffs: Vec<usize> = (0..now.len()).filter(|&i| now[i] != last[i]).collect();
            out.push((pos, diffs[0] as u64, diffs.len() as u64));
            last = now.to_vec();
        }
    }
    out
}

#[test]
fn a_watch_on_the_whole_memory_reports_each_change_in_brief() {
    let limit = 3000;
    let expected = memory_changes(limit);
    assert!(expected.len() > 50, "{expected:?}");
    let mut t = timeline(1000);
    let memory = t.host().memory.unwrap();
    let size = t.store().memory_data(memory).len() as u64;
    t.set_watchpoint(Some(Watchpoint {
        memory,
        addr: 0,
        len: size,
        kind: WatchKind::Change,
    }))
    .unwrap();
    let check = |t: &Timeline<Counter>, hit: &capicola_engine::timeline::WatchHit| {
        // A window of the range around the first changed byte, not the range.
        assert!(hit.new.len() as u64 <= WATCH_WINDOW && hit.old.len() == hit.new.len());
        assert!(hit.window <= hit.addr && hit.addr < hit.window + hit.new.len() as u64);
        let i = (hit.addr - hit.window) as usize;
        assert_ne!(hit.old[i], hit.new[i]);
        assert!(hit.old[..i] == hit.new[..i]);
        let data = t.store().memory_data(memory);
        let at = hit.window as usize;
        let now = if t.position() == hit.position {
            // Backwards: stopped before the write.
            &hit.old
        } else {
            &hit.new
        };
        assert_eq!(&data[at..at + hit.new.len()], &now[..]);
    };
    let mut seen = Vec::new();
    let beyond = loop {
        let Stop::Watch(hit) = t.continue_forward().unwrap() else {
            panic!("the run goes on past {limit}")
        };
        assert_eq!(t.position(), hit.position + 1);
        check(&t, &hit);
        if hit.position >= limit {
            break hit.position;
        }
        seen.push((hit.position, hit.addr, hit.changed));
    };
    assert_eq!(seen, expected);
    // Backwards, the same hits in reverse.
    let Stop::Watch(hit) = t.continue_backward().unwrap() else {
        panic!()
    };
    assert_eq!(hit.position, beyond);
    for &want in expected.iter().rev().take(10) {
        let Stop::Watch(hit) = t.continue_backward().unwrap() else {
            panic!()
        };
        check(&t, &hit);
        assert_eq!((hit.position, hit.addr, hit.changed), want);
    }
}

#[test]
fn a_read_watch_on_the_whole_memory_stops_at_each_read() {
    let limit = 3000;
    let mut expected = Vec::new();
    let (mut store, mut host, _) = start();
    while store.fuel_consumed() < limit {
        let pos = store.fuel_consumed();
        if let Some(a) = store.next_accesses().into_iter().find(|a| !a.write) {
            expected.push((pos, a.addr));
        }
        if !step_straight(&mut store, &mut host) {
            break;
        }
    }
    let mut t = timeline(1000);
    let memory = t.host().memory.unwrap();
    let size = t.store().memory_data(memory).len() as u64;
    t.set_watchpoint(Some(Watchpoint {
        memory,
        addr: 0,
        len: size,
        kind: WatchKind::Read,
    }))
    .unwrap();
    let mut seen = Vec::new();
    while let Stop::Watch(hit) = t.continue_forward().unwrap() {
        if hit.position >= limit {
            break;
        }
        assert!(!hit.write && hit.new.len() as u64 <= WATCH_WINDOW);
        seen.push((hit.position, hit.addr));
    }
    assert_eq!(seen, expected);
}

#[test]
fn watches_and_last_write_refuse_bytes_outside_the_memory() {
    let mut t = timeline(1000);
    let memory = t.host().memory.unwrap();
    let size = t.store().memory_data(memory).len() as u64;
    for (addr, len) in [
        (0xffff_ffff, 2),
        (size - 1, 2),
        (size, 1),
        (u64::MAX, 2),
        (0, size + 1),
        (1, u64::MAX),
    ] {
        for kind in [WatchKind::Write, WatchKind::Read] {
            let err = t
                .set_watchpoint(Some(Watchpoint {
                    memory,
                    addr,
                    len,
                    kind,
                }))
                .unwrap_err();
            assert!(
                matches!(err, TimelineError::OutOfBounds { size: s, .. } if s == size),
                "{err}"
            );
            assert!(
                err.to_string().contains(&format!("({size} bytes)")),
                "{err}"
            );
        }
        let err = t.last_write(memory, addr, len).unwrap_err();
        assert!(
            matches!(err, TimelineError::OutOfBounds { .. }),
            "{addr:#x} {len}: {err}"
        );
    }
    let empty = Watchpoint {
        memory,
        addr: 0,
        len: 0,
        kind: WatchKind::Change,
    };
    assert!(matches!(
        t.set_watchpoint(Some(empty)),
        Err(TimelineError::EmptyRange)
    ));
    assert!(matches!(
        t.last_write(memory, 0, 0),
        Err(TimelineError::EmptyRange)
    ));
    assert_eq!(t.watchpoint(), None);
    // The last byte is inside.
    t.set_watchpoint(Some(Watchpoint {
        addr: size - 1,
        len: 1,
        ..empty
    }))
    .unwrap();
}

/// Reads byte 500 (set by a data segment, never written) on every round, and writes only the next page.
const READER: &str = r#"
(module
  (memory (export "memory") 1)
  (data (i32.const 500) "\05")
  (func (export "main") (result i32)
    (local $i i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u (i32.const 500))))
      (i32.store (i32.const 0x2000) (local.get $sum))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.get $sum)))
"#;

#[test]
fn read_watches_backwards_replay_stretches_that_leave_the_bytes_unwritten() {
    let engine = Engine::new(Config {
        track_dirty_pages: true,
        ..Config::default()
    });
    let module = Module::new(&engine, &wat::parse_str(READER).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("no memory")
    };
    let Some(Extern::Func(main)) = store.instance_export(inst, "main") else {
        panic!("no main")
    };
    store.invoke(main, &[]).unwrap();
    let mut t = Timeline::new(store, Counter::default(), config(100)).unwrap();
    let end = end_of(&mut t);
    t.set_watchpoint(Some(Watchpoint {
        memory,
        addr: 500,
        len: 1,
        kind: WatchKind::Read,
    }))
    .unwrap();
    let Stop::Watch(hit) = t.continue_backward().unwrap() else {
        panic!("no read found backwards from {end}")
    };
    assert!(!hit.write && hit.new == [5]);
    assert!(end - hit.position < 10, "{} {end}", hit.position);
}
