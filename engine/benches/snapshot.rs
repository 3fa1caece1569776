//! Benchmark (not a test): reset-to-baseline against a full copy, and snapshot capture/encode/decode speed and size.
//! Run with `cargo bench -p capicola-engine --bench snapshot`.

use std::time::{Duration, Instant};

use capicola_engine::{
    Config, DecodeLimits, Engine, Extern, Func, HostAnswer, Linker, Module, Snapshot, Store, Val,
};

const PAGES_16MIB: u32 = 256;

fn program() -> String {
    format!(
        r#"(module
          (memory (export "mem") {PAGES_16MIB})
          ;; Writes one i64 into each of ten 4 KiB pages starting at page `base`.
          (func (export "touch") (param $base i32)
            (local $i i32)
            (loop $l
              (i64.store (i32.mul (i32.add (local.get $base) (local.get $i)) (i32.const 4096)) (i64.const -1))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 10)))))
          ;; Fills `len` bytes at `at` with a pattern.
          (func (export "fill") (param $at i32) (param $len i32)
            (memory.fill (local.get $at) (i32.const 0x5a) (local.get $len))))"#
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let engine = Engine::new(Config {
        track_dirty_pages: true,
        ..Config::default()
    });
    let module =
        Module::new(&engine, &wat::parse_str(program()).expect("valid WAT")).expect("valid module");
    let mut store = Store::new(&engine);
    let inst = Linker::new()
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let func = |store: &Store, name: &str| -> Func {
        match store.instance_export(inst, name) {
            Some(Extern::Func(f)) => f,
            _ => panic!("missing export {name}"),
        }
    };
    let (touch, fill) = (func(&store, "touch"), func(&store, "fill"));
    let baseline = store.baseline();

    // Reset with 10 dirty pages, against replacing the store by a full copy of the baseline.
    let rounds = 2000;
    let mut dirty_reset = Vec::with_capacity(rounds);
    let mut full_copy = Vec::with_capacity(rounds / 10);
    for i in 0..rounds {
        store
            .call(touch, &[Val::I32((i % 240) as i32)], &mut |_, _| {
                HostAnswer::Return(vec![])
            })
            .expect("call")
            .expect("no trap");
        assert_eq!(store.dirty_pages(), 10);
        let t = Instant::now();
        store.reset_to(&baseline).expect("reset");
        dirty_reset.push(t.elapsed());
        if i % 10 == 0 {
            let t = Instant::now();
            let copy = baseline.clone();
            full_copy.push(t.elapsed());
            std::hint::black_box(copy);
        }
    }
    let (reset, copy) = (median(dirty_reset), median(full_copy));
    println!(
        "reset, 10 dirty pages of a 16 MiB memory: {:>10.2} us (median of {rounds})",
        reset.as_secs_f64() * 1e6
    );
    println!(
        "full copy of the same store:              {:>10.2} us",
        copy.as_secs_f64() * 1e6
    );
    println!(
        "ratio full copy / dirty reset:            {:>10.0}x",
        copy.as_secs_f64() / reset.as_secs_f64()
    );

    // Snapshot size of a 16 MiB memory that is mostly zero (64 KiB written).
    store
        .call(
            fill,
            &[Val::I32(1 << 20), Val::I32(1 << 16)],
            &mut |_, _| HostAnswer::Return(vec![]),
        )
        .expect("call")
        .expect("no trap");
    let sparse = store.capture().to_bytes().expect("encodes");
    println!(
        "snapshot of 16 MiB memory, 64 KiB non-zero: {:>8} bytes on disk",
        sparse.len()
    );

    // Throughput with 8 MiB of non-zero data.
    store
        .call(fill, &[Val::I32(0), Val::I32(8 << 20)], &mut |_, _| {
            HostAnswer::Return(vec![])
        })
        .expect("call")
        .expect("no trap");
    let mb = 16.0;
    let mut cap = Vec::new();
    let mut enc = Vec::new();
    let mut dec = Vec::new();
    let mut size = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let snap = store.capture();
        cap.push(t.elapsed());
        let t = Instant::now();
        let bytes = snap.to_bytes().expect("encodes");
        enc.push(t.elapsed());
        size = bytes.len();
        let t = Instant::now();
        let back = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).expect("decodes");
        let restored =
            Store::restore(&engine, &back, std::slice::from_ref(&module)).expect("restores");
        dec.push(t.elapsed());
        std::hint::black_box(restored);
    }
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!("16 MiB memory, 8 MiB non-zero (encoded {size} bytes):");
    println!("  capture:              {:>8.0} MB/s", rate(median(cap)));
    println!("  serialize (to bytes): {:>8.0} MB/s", rate(median(enc)));
    println!("  deserialize+restore:  {:>8.0} MB/s", rate(median(dec)));
}
