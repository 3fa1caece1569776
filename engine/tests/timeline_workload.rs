//! The timeline benchmark's workload, cut to about a million instructions: recorded through a timeline, the states
//! it steps back and seeks to are those of a straight run, and `last_write` finds what single-stepping finds.

#![allow(clippy::unwrap_used)]

#[path = "../benches/timeline_workload/mod.rs"]
mod timeline_workload;

use capicola_engine::timeline::{End, Stop, Timeline, TimelineConfig};
use capicola_engine::{Store, Val};
use timeline_workload::{
    EARLY_BYTE, HOST_WORD, ROUND_BYTE, Shape, Ticker, run_plain, run_until, start,
};

const SHAPE: Shape = Shape {
    rounds: 15,
    scatter: 512,
    stream: 4 << 10,
    loads: 1024,
};

/// A straight run to `pos`.
fn straight(pos: u64) -> (Store, Ticker) {
    let (mut store, mut host) = start(true, SHAPE);
    run_until(&mut store, &mut host, pos);
    (store, host)
}

/// Everything observable about a paused store.
fn digest(store: &Store, host: &Ticker) -> (Vec<u8>, String, i32) {
    (
        store.memory_data(host.memory).to_vec(),
        format!("{:?}", store.frames()),
        host.total,
    )
}

/// For each `(addr, len)`, the positions before the instructions that changed those bytes, by single-stepping to
/// `end`.
fn changes(ranges: &[(u64, u64)], end: u64) -> Vec<Vec<u64>> {
    let (mut store, mut host) = start(true, SHAPE);
    let memory = host.memory;
    let bytes = |store: &Store, (addr, len): (u64, u64)| {
        store.memory_data(memory)[addr as usize..(addr + len) as usize].to_vec()
    };
    let mut last: Vec<Vec<u8>> = ranges.iter().map(|&r| bytes(&store, r)).collect();
    let mut found = vec![Vec::new(); ranges.len()];
    while store.fuel_consumed() < end {
        let pos = store.fuel_consumed();
        run_until(&mut store, &mut host, pos + 1);
        for (i, &r) in ranges.iter().enumerate() {
            let now = bytes(&store, r);
            if now != last[i] {
                found[i].push(pos);
                last[i] = now;
            }
        }
    }
    found
}

#[test]
fn the_benchmark_workload_steps_back_and_finds_last_writes_exactly() {
    let (mut store, mut host) = start(false, SHAPE);
    let sum = run_plain(&mut store, &mut host);
    let end = store.fuel_consumed();
    assert!((500_000..2_000_000).contains(&end), "{end} instructions");

    let (store, host) = start(true, SHAPE);
    let config = TimelineConfig {
        interval: 50_000,
        ..TimelineConfig::default()
    };
    let mut t = Timeline::new(store, host, config).unwrap();
    assert_eq!(t.continue_forward().unwrap(), Stop::End);
    assert_eq!(t.end(), Some((end, &End::Finished(vec![Val::I32(sum)]))));
    assert!(t.checkpoints().len() > 2, "{:?}", t.checkpoints());
    assert!(t.memory_used() <= config.budget);

    for back in 1..=3 {
        assert_eq!(t.step_back().unwrap(), Stop::Reached);
        assert_eq!(t.position(), end - back);
        let (store, host) = straight(end - back);
        assert!(
            digest(t.store(), t.host()) == digest(&store, &host),
            "state differs {back} instructions before the end"
        );
    }
    let mid = end / 2;
    t.seek(mid).unwrap();
    let (store, host) = straight(mid);
    assert!(digest(t.store(), t.host()) == digest(&store, &host));

    // From the end, from checkpoints (where whole stretches between checkpoints that leave the watched page
    // alone are passed over) and from between them, `last_write` finds the latest change before the position: the
    // guest's round byte and the host's word change on every write, the early byte is written once.
    let memory = t.host().memory;
    let ranges = [(ROUND_BYTE, 1), (HOST_WORD, 4), (EARLY_BYTE, 1)];
    let expected = changes(&ranges, end);
    let kept = t.checkpoints();
    let mut origins = vec![end, mid + 12_345];
    origins.extend(kept.iter().skip(kept.len() / 3).step_by(3).take(3));
    for origin in origins {
        t.seek(origin).unwrap();
        for (&(addr, len), writes) in ranges.iter().zip(&expected) {
            let want = writes.iter().rev().find(|&&p| p < origin).copied();
            let hit = t.last_write(memory, addr, len).unwrap().unwrap();
            assert_eq!(t.position(), origin, "last_write leaves the position alone");
            assert_eq!(
                Some(hit.position),
                want,
                "last write of {len} bytes at {addr} before {origin}"
            );
            assert_eq!(hit.host.is_some(), addr == HOST_WORD);
            let now = &t.store().memory_data(memory)[addr as usize..(addr + len) as usize];
            assert_eq!(hit.new, now);
        }
    }
}
