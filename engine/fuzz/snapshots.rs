//! The snapshot oracles: any bytes decoded as a snapshot and restored against a fixed module give an error or a store that runs — never a panic — and a run paused at chosen instruction boundaries, carried each time through snapshot bytes into a fresh store, ends exactly like the uninterrupted run: same results or trap, same memories, globals, tables and fuel.
//!
//! Shared by source inclusion like `harness.rs` (`#[path = ".../snapshots.rs"] mod snapshots;`): the including
//! crate depends on `capicola-engine`, `wat`, `lz4_flex` and `arbitrary`.

use arbitrary::Unstructured;
use capicola_engine::{
    Config, DecodeLimits, Engine, Error, Extern, ExternType, Func, Linker, Module, Outcome,
    Snapshot, Store, Trap, Val,
};

/// Fuel one call may use before it is abandoned.
pub const FUEL_PER_CALL: u64 = 100_000;

/// Most pauses (snapshot round trips) in one call.
pub const MAX_PAUSES_PER_CALL: usize = 16;

/// Whether a [`Schedule::new`] pauses at host calls that the embedder made directly (an exported import called
/// with no Wasm frame below it); `Store::restore` takes such pauses since
/// `corpora/regressions/engine/snapshot-outermost-host-call.wat` was fixed.
pub const PAUSE_AT_OUTERMOST_HOST_CALLS: bool = true;

/// An engine with every feature and memory and table limits small enough that no input can exhaust the host's
/// memory (as `harness::engine`).
pub fn engine() -> Engine {
    Engine::new(Config {
        max_memory_bytes: 16 << 20,
        max_table_elements: 1 << 20,
        ..Config::default()
    })
}

/// The module hostile snapshots are restored against: memory, a table, globals of every kind, an imported host
/// function, calls through the table and a loop that writes memory, so that a valid snapshot of it has frames, a
/// busy stack and non-zero pages; a reference kept in a local goes into the table and is called through it, so
/// that a damaged reference on the stack is used.
pub const DECODE_MODULE: &str = r#"
(module
  (import "env" "host" (func $host (param i32 i64) (result i32)))
  (memory (export "mem") 1 4)
  (table $t 4 funcref)
  (global $g (mut i64) (i64.const 7))
  (global $f (mut f64) (f64.const 1.5))
  (global $v (mut v128) (v128.const i32x4 1 2 3 4))
  (global $r (mut funcref) (ref.null func))
  (elem (i32.const 0) $sq $fib $sq)
  (data $d "some passive data")
  (type $t1 (func (param i32) (result i32)))
  (func $sq (type $t1) (i32.mul (local.get 0) (local.get 0)))
  (func $fib (type $t1)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $run (export "run") (param $n i32) (result i32 i64 v128)
    (local $i i32) (local $acc i32) (local $fr funcref)
    (local.set $fr (ref.func $sq))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (table.set $t (i32.const 3) (local.get $fr))
        (global.set $r (local.get $fr))
        (drop (call_indirect (type $t1) (local.get $i) (i32.const 3)))
        (i32.store (i32.mul (local.get $i) (i32.const 4100))
          (call_indirect (type $t1) (local.get $i) (i32.rem_u (local.get $i) (i32.const 3))))
        (local.set $acc (i32.add (local.get $acc)
          (call $host (local.get $i) (global.get $g))))
        (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get $acc))))
        (global.set $f (f64.mul (global.get $f) (f64.const 1.25)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (drop (memory.grow (i32.const 1)))
    (data.drop $d)
    (local.get $acc) (global.get $g) (global.get $v)))
"#;

/// The fixed module of [`decode`], compiled for a fresh engine.
pub fn decode_module() -> (Engine, Module) {
    let engine = engine();
    let binary = wat::parse_str(DECODE_MODULE).expect("the fixed module is valid text");
    let module = Module::new(&engine, &binary).expect("the fixed module is valid");
    (engine, module)
}

/// A store with the fixed module instantiated (its import answered by host id 1), and its `run` export.
fn decode_fixture() -> (Store, Func) {
    let (engine, module) = decode_module();
    let mut store = Store::new(&engine);
    let host = store.new_host_func(
        capicola_engine::FuncType::new(
            [capicola_engine::ValType::I32, capicola_engine::ValType::I64],
            [capicola_engine::ValType::I32],
        ),
        1,
    );
    let mut linker = Linker::new();
    linker.define("env", "host", Extern::Func(host));
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("the fixed module instantiates");
    let Some(Extern::Func(run)) = store.instance_export(instance, "run") else {
        panic!("the fixed module exports `run`");
    };
    (store, run)
}

/// Valid snapshot files of the fixed module: idle, pending, paused at a few points, waiting on the host.
pub fn valid_snapshots() -> Vec<Vec<u8>> {
    let (mut store, run) = decode_fixture();
    let encode = |store: &Store| {
        store
            .capture()
            .to_bytes()
            .expect("a captured snapshot encodes")
    };
    let mut files = vec![encode(&store)];
    store
        .invoke(run, &[Val::I32(9)])
        .expect("`run` takes one i32");
    files.push(encode(&store));
    for fuel in [1, 17, 60, 150] {
        loop {
            match store.run(fuel) {
                Outcome::OutOfFuel => break,
                Outcome::HostCall(_) => {
                    files.push(encode(&store));
                    store
                        .host_return(&[Val::I32(3)])
                        .expect("the host returns one i32");
                }
                other => panic!("the fixed run ended early: {other:?}"),
            }
        }
        files.push(encode(&store));
    }
    files
}

/// Replaces the body of a snapshot file with `raw` (compressed anew), keeping the modules its header names; the
/// checksums are computed anew, so that the decoder's checks beyond them are what `raw` meets.
pub fn with_raw_body(file: &[u8], raw: &[u8]) -> Vec<u8> {
    let (header, _) = Snapshot::read_header(file, &DecodeLimits::default())
        .expect("the template is a valid snapshot file");
    Snapshot::file_from_raw_body(&header.modules, raw).expect("the template names few modules")
}

/// The raw (decompressed) body of a snapshot file.
pub fn raw_body(file: &[u8]) -> Vec<u8> {
    let (header, body_at) = Snapshot::read_header(file, &DecodeLimits::default())
        .expect("the template is a valid snapshot file");
    lz4_flex::block::decompress(&file[body_at..], header.raw_len as usize)
        .expect("the template's body decompresses")
}

/// The bytes `decode` tries, built from `data`: the first byte chooses how. 0: `data` as a whole file. 1: `data` as
/// the raw body under a valid header. Otherwise: the raw body of one of the [`valid_snapshots`], patched by
/// `data` (three bytes per patch: a position and a value to xor there), under a valid header.
pub fn decode_input(data: &[u8], valid: &[Vec<u8>]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    match mode % 4 {
        0 => rest.to_vec(),
        1 => with_raw_body(&valid[0], rest),
        _ => {
            let Some((&pick, patches)) = rest.split_first() else {
                return valid[0].clone();
            };
            let template = &valid[pick as usize % valid.len()];
            let mut raw = raw_body(template);
            if !raw.is_empty() {
                for patch in patches.chunks_exact(3) {
                    let at = usize::from(u16::from_le_bytes([patch[0], patch[1]])) % raw.len();
                    raw[at] ^= patch[2];
                }
            }
            if mode % 4 == 3 && patches.len() % 3 != 0 {
                // A cut: the last odd bytes say how much of the end to drop.
                let cut = usize::from(patches[patches.len() - 1]) % (raw.len() + 1);
                raw.truncate(raw.len() - cut);
            }
            with_raw_body(template, &raw)
        }
    }
}

/// Fuel a store restored by [`decode`] may use.
pub const DECODE_FUEL: u64 = 20_000;

/// Whether the stable tests let [`decode`] run the stores it restores (the fuzz target always does). On since a
/// bad function reference of a damaged snapshot traps where it would enter a table and restore checks locals
/// (`corpora/regressions/engine/snapshot-bad-funcref-on-stack.bin`).
pub const RUN_RESTORED_STORES: bool = true;

/// The decode oracle: `bytes` decode to an error, or to a snapshot that restores against `module` (the fixed
/// module, see [`decode_module`]) to an error or to a store that behaves — whose own capture restores again,
/// and, when `run`, which runs with bounded fuel (host calls answered with zeros) and whose capture after that
/// run restores too. Any panic is a bug.
pub fn decode(engine: &Engine, module: &Module, bytes: &[u8], run: bool) {
    let limits = DecodeLimits {
        max_body_bytes: 64 << 20,
        ..DecodeLimits::default()
    };
    let Ok(snapshot) = Snapshot::from_bytes(bytes, &limits) else {
        return;
    };
    let modules = std::slice::from_ref(module);
    let Ok(mut store) = Store::restore(engine, &snapshot, modules) else {
        return;
    };
    let _ = store.backtrace();
    let _ = store.position();
    let _ = store.pending_host_call();
    round_trip(engine, modules, &mut store);
    if !run {
        return;
    }
    let mut fuel = DECODE_FUEL;
    let mut host_calls = 0;
    while store.is_running() && fuel > 0 && host_calls < 1000 {
        if let Some(call) = store.pending_host_call() {
            host_calls += 1;
            let results = zeros(&store, call.func);
            store
                .host_return(&results)
                .expect("zeros of the result types answer a pending host call");
            continue;
        }
        let before = store.fuel_consumed();
        let outcome = store.run(fuel.min(5_000));
        fuel = fuel.saturating_sub(store.fuel_consumed() - before);
        match outcome {
            Outcome::Finished(_) | Outcome::Trapped(_) => break,
            Outcome::OutOfFuel => {}
            Outcome::HostCall(call) => {
                host_calls += 1;
                let results = zeros(&store, call.func);
                store
                    .host_return(&results)
                    .expect("zeros of the result types answer a host call");
            }
        }
    }
    round_trip(engine, modules, &mut store);
}

/// Zero values of the result types of `func`.
fn zeros(store: &Store, func: Func) -> Vec<Val> {
    store
        .func_type(func)
        .results()
        .iter()
        .map(|&ty| Val::default_for(ty))
        .collect()
}

/// Replaces `store` with a fresh store restored from its snapshot's bytes, which must be possible and exact.
fn round_trip(engine: &Engine, modules: &[Module], store: &mut Store) {
    let captured = store.capture();
    let bytes = captured.to_bytes().expect("a captured snapshot encodes");
    let decoded = Snapshot::from_bytes(&bytes, &DecodeLimits::default())
        .expect("an encoded snapshot decodes");
    assert!(decoded == captured, "a snapshot changed through its bytes");
    let restored = Store::restore(engine, &decoded, modules)
        .unwrap_or_else(|e| panic!("a captured snapshot does not restore: {e}"));
    assert!(
        restored.capture() == captured,
        "a restored store captures differently from its snapshot"
    );
    *store = restored;
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEnd {
    Finished(Vec<Val>),
    Trapped(Trap),
    OutOfFuel,
}

/// What checking one module came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Transparency {
    pub instantiated: bool,
    pub calls: u64,
    /// Snapshot round trips at instruction boundaries.
    pub pauses: u64,
    /// Snapshot round trips while a host call was waiting for its results.
    pub host_pauses: u64,
}

impl std::ops::AddAssign for Transparency {
    fn add_assign(&mut self, other: Transparency) {
        self.instantiated |= other.instantiated;
        self.calls += other.calls;
        self.pauses += other.pauses;
        self.host_pauses += other.host_pauses;
    }
}

/// Where to pause, read from bytes: each pause comes after a gap of 1 to 65536 instructions (log-uniform), and
/// each host call is also a pause point or not. When the bytes run out, the run goes on without pausing.
#[derive(Debug)]
pub struct Schedule<'a> {
    u: Unstructured<'a>,
    pauses: usize,
    /// Whether host calls made directly by the embedder are pause points too.
    outermost_host_calls: bool,
}

impl<'a> Schedule<'a> {
    /// The schedule `bytes` describe, skipping the pauses the engine is known not to restore (see
    /// [`PAUSE_AT_OUTERMOST_HOST_CALLS`]).
    pub fn new(bytes: &'a [u8]) -> Self {
        Schedule {
            u: Unstructured::new(bytes),
            pauses: 0,
            outermost_host_calls: PAUSE_AT_OUTERMOST_HOST_CALLS,
        }
    }

    /// The schedule `bytes` describe, with every host call a possible pause point.
    pub fn strict(bytes: &'a [u8]) -> Self {
        Schedule {
            outermost_host_calls: true,
            ..Schedule::new(bytes)
        }
    }

    /// Starts the count of pauses of a new call.
    fn next_call(&mut self) {
        self.pauses = 0;
    }

    /// Instructions to run before the next pause, if there is one.
    fn gap(&mut self) -> Option<u64> {
        if self.pauses >= MAX_PAUSES_PER_CALL || self.u.len() < 3 {
            return None;
        }
        self.pauses += 1;
        let shift = self.u.int_in_range(0..=16u32).ok()?;
        let spread = u64::from(self.u.arbitrary::<u16>().ok()?);
        Some(1 + spread % (1u64 << shift))
    }

    /// Whether to pause at a host call; `outermost` when no Wasm frame is below it.
    fn at_host_call(&mut self, outermost: bool) -> bool {
        (self.outermost_host_calls || !outermost)
            && self.pauses < MAX_PAUSES_PER_CALL
            && self.u.arbitrary::<bool>().unwrap_or(false)
            && {
                self.pauses += 1;
                true
            }
    }
}

/// Instantiates `module` against dummy imports (host functions answered with zeros, zeroed globals, null-filled
/// tables and zeroed memories of the minimum size); `None` when that fails (a segment out of bounds, a limit).
fn instantiate(engine: &Engine, module: &Module) -> Option<(Store, Vec<Func>)> {
    let mut store = Store::new(engine);
    let mut imports = Vec::new();
    for (host_id, import) in (0..).zip(module.imports()) {
        let ext = match &import.ty {
            ExternType::Func(ty) => Extern::Func(store.new_host_func(ty.clone(), host_id)),
            ExternType::Global(ty) => {
                Extern::Global(store.new_global(*ty, Val::default_for(ty.content)).ok()?)
            }
            ExternType::Table(ty) => {
                Extern::Table(store.new_table(*ty, Val::default_for(ty.element)).ok()?)
            }
            ExternType::Memory(ty) => Extern::Memory(store.new_memory(*ty).ok()?),
        };
        imports.push(ext);
    }
    let instance = match store.instantiate(module, &imports) {
        Ok(instance) => instance,
        Err(Error::Instantiation(_)) => return None,
        Err(e) => panic!("instantiation against dummy imports failed: {e}"),
    };
    let exported = store
        .instance_exports(instance)
        .into_iter()
        .filter_map(|(_, ext)| match ext {
            Extern::Func(f) => Some(f),
            _ => None,
        });
    let funcs = store
        .instance_start(instance)
        .into_iter()
        .chain(exported)
        .collect();
    Some((store, funcs))
}

/// Calls `f` with zero arguments for at most [`FUEL_PER_CALL`] instructions, answering host calls with zeros;
/// with a `schedule`, pauses where it says and carries the store through snapshot bytes into a fresh one each time.
fn call(
    engine: &Engine,
    module: &Module,
    store: &mut Store,
    f: Func,
    mut schedule: Option<&mut Schedule<'_>>,
    stats: &mut Transparency,
) -> CallEnd {
    let args: Vec<Val> = store
        .func_type(f)
        .params()
        .iter()
        .map(|&t| Val::default_for(t))
        .collect();
    store
        .invoke(f, &args)
        .expect("an idle store accepts a call with arguments of the function's types");
    if let Some(schedule) = schedule.as_deref_mut() {
        schedule.next_call();
    }
    let modules = std::slice::from_ref(module);
    let mut left = FUEL_PER_CALL;
    loop {
        let gap = schedule.as_deref_mut().and_then(Schedule::gap);
        let slice = gap.unwrap_or(left).min(left);
        let before = store.fuel_consumed();
        let outcome = store.run(slice);
        left -= store.fuel_consumed() - before;
        match outcome {
            Outcome::Finished(results) => return CallEnd::Finished(results),
            Outcome::Trapped(trap) => return CallEnd::Trapped(trap),
            Outcome::OutOfFuel if left > 0 => {
                stats.pauses += 1;
                round_trip(engine, modules, store);
            }
            Outcome::OutOfFuel => {
                store.abort();
                return CallEnd::OutOfFuel;
            }
            Outcome::HostCall(call) => {
                let outermost = store.position().is_none();
                if schedule
                    .as_deref_mut()
                    .is_some_and(|s| s.at_host_call(outermost))
                {
                    stats.host_pauses += 1;
                    round_trip(engine, modules, store);
                    assert_eq!(
                        store.pending_host_call().as_ref(),
                        Some(&call),
                        "a restored store waits on another host call"
                    );
                }
                let results = zeros(store, call.func);
                store
                    .host_return(&results)
                    .expect("zeros of the result types answer a host call");
            }
        }
    }
}

/// The transparency oracle: `module` instantiated twice; its start function and every export called in both
/// stores in turn, straight in one and paused where `schedule` says in the other. After each call, the outcomes
/// and the whole states (memories, globals, tables, segments, fuel) must be equal; a difference panics.
pub fn transparency(engine: &Engine, module: &Module, schedule: &mut Schedule<'_>) -> Transparency {
    let mut stats = Transparency::default();
    let Some((mut straight, funcs)) = instantiate(engine, module) else {
        return stats;
    };
    let (mut paused, _) = instantiate(engine, module).expect("instantiation is deterministic");
    stats.instantiated = true;
    assert!(
        straight.capture() == paused.capture(),
        "two instantiations differ"
    );
    for f in funcs {
        stats.calls += 1;
        let expected = call(engine, module, &mut straight, f, None, &mut stats);
        let got = call(engine, module, &mut paused, f, Some(schedule), &mut stats);
        assert_eq!(
            got,
            expected,
            "a paused call of function {} ended differently",
            f.index()
        );
        assert!(
            paused.capture() == straight.capture(),
            "after a paused call of function {}, the state differs from the straight run's",
            f.index()
        );
    }
    stats
}
