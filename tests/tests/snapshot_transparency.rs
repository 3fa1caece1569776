//! The snapshot fuzz targets on stable, with fixed inputs: seeded `wasm-smith` modules paused at seeded instruction boundaries and carried through snapshot bytes into fresh stores end exactly like their uninterrupted runs (`snapshot_transparency`); seeded damage to valid snapshot files never makes decoding, restoring or running panic (`snapshot_decode`); and every file in `corpora/regressions/engine/` goes through both.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use capicola_engine::{DecodeLimits, Module, Snapshot};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../../engine/fuzz/generate.rs"]
mod generate;
#[path = "../../engine/fuzz/snapshots.rs"]
mod snapshots;

use snapshots::{Schedule, Transparency};

/// Number of generated modules: seeds `0..MODULES`.
const MODULES: u64 = 300;

/// Longest `wasm-smith` input, in bytes; each seed picks a length up to this.
const MAX_INPUT_LEN: usize = 4096;

/// Bytes of pause schedule per module: enough for every call to pause up to its limit.
const SCHEDULE_LEN: usize = 1024;

/// Damaged snapshot files tried by the decode test.
const DAMAGED_FILES: u64 = 3000;

/// The `wasm-smith` input and the pause schedule of a seed, both from a seeded generator.
fn seeded_input(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut smith = vec![0; rng.random_range(1..=MAX_INPUT_LEN)];
    rng.fill(&mut smith[..]);
    let mut schedule = vec![0; SCHEDULE_LEN];
    rng.fill(&mut schedule[..]);
    (smith, schedule)
}

/// The fuzz target's configuration with minimums, as the smith test uses: uniformly random bytes otherwise end
/// most lists after an element or two.
fn seeded_config() -> wasm_smith::Config {
    wasm_smith::Config {
        min_types: 4,
        min_funcs: 8,
        min_imports: 2,
        ..generate::config()
    }
}

/// What the `snapshot_transparency` fuzz target does with a generated module (if any) and a pause schedule.
fn check_transparency(
    module: Option<Vec<u8>>,
    schedule: Schedule<'_>,
    engine: &capicola_engine::Engine,
) -> Transparency {
    let Some(bytes) = module else {
        return Transparency::default();
    };
    let engine = engine.clone();
    let module = Module::new(&engine, &bytes)
        .unwrap_or_else(|e| panic!("the engine rejected a valid wasm-smith module: {e}"));
    snapshots::transparency(&engine, &module, &mut { schedule })
}

/// Runs `f`, turning a panic into its message.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

/// Runs `check` for `0..count` on every core; returns the summaries and the failures (index and message).
fn on_every_core<T: Send + Default + std::ops::AddAssign>(
    count: u64,
    check: impl Fn(u64) -> T + Sync,
) -> (T, Vec<(u64, String)>) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let check = &check;
    let results: Vec<(T, Vec<(u64, String)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                scope.spawn(move || {
                    let mut total = T::default();
                    let mut failures = Vec::new();
                    for i in (worker..count).step_by(workers as usize) {
                        match catch(|| check(i)) {
                            Ok(summary) => total += summary,
                            Err(message) => failures.push((i, message)),
                        }
                    }
                    (total, failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("panics are caught per input"))
            .collect()
    });
    let mut total = T::default();
    let mut failures = Vec::new();
    for (summary, mut failed) in results {
        total += summary;
        failures.append(&mut failed);
    }
    failures.sort();
    (total, failures)
}

#[test]
fn smith_modules_paused_anywhere_end_as_their_straight_runs() {
    smith_transparency(&snapshots::engine());
}

/// The same with the sanitizer's checks compiled in: its shadow travels through the snapshots too.
#[test]
fn smith_modules_paused_anywhere_end_as_their_straight_runs_with_the_sanitizer() {
    smith_transparency(&capicola_engine::Engine::new(capicola_engine::Config {
        sanitize: true,
        ..snapshots::engine().config().clone()
    }));
}

fn smith_transparency(engine: &capicola_engine::Engine) {
    let (total, failures) = on_every_core(MODULES, |seed| {
        let (smith, schedule) = seeded_input(seed);
        check_transparency(
            generate::module_with(seeded_config(), &smith),
            Schedule::new(&schedule),
            engine,
        )
    });
    println!("{MODULES} wasm-smith modules: {total:?}");
    let listed: Vec<String> = failures
        .iter()
        .map(|(seed, message)| format!("  seed {seed}: {message}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {MODULES} seeds differ (input: `seeded_input(seed)` under `seeded_config()`):\n{}",
        failures.len(),
        listed.join("\n")
    );
    // The check is not vacuous: calls ran, and paused both between instructions and at host calls.
    assert!(
        total.instantiated && total.calls > 1000 && total.pauses > 2000 && total.host_pauses > 20,
        "{total:?}"
    );
}

/// A decode input of a seed: a mode byte and random bytes, the shapes `snapshots::decode_input` understands.
fn damaged_input(seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mode = (seed % 4) as u8;
    let len = match mode {
        // Patches: a template, then a few three-byte patches (and maybe a cut).
        2 | 3 => 2 + rng.random_range(0..=12),
        _ => rng.random_range(1..=512),
    };
    let mut bytes = vec![0; len];
    rng.fill(&mut bytes[..]);
    bytes[0] = mode;
    bytes
}

/// Every truncation of the valid files of the fixed module is an error, and seeded damage to their bodies under
/// valid checksums (restored stores are run once `snapshots::RUN_RESTORED_STORES` is on) gives errors or stores
/// that capture and restore again, never a panic.
#[test]
fn damaged_snapshot_files_give_errors_or_stores_that_run() {
    let (engine, module) = snapshots::decode_module();
    let valid = snapshots::valid_snapshots();
    // Every truncation of every valid file, refused by decoding itself, then seeded damage.
    let limits = DecodeLimits::default();
    for file in &valid {
        for len in 0..file.len() {
            assert!(
                Snapshot::from_bytes(&file[..len], &limits).is_err(),
                "a valid file cut at {len} decodes"
            );
            snapshots::decode(&engine, &module, &file[..len], true);
        }
        snapshots::decode(&engine, &module, file, true);
    }
    let (tried, failures) = on_every_core(DAMAGED_FILES, |seed| {
        let input = snapshots::decode_input(&damaged_input(seed), &valid);
        snapshots::decode(&engine, &module, &input, snapshots::RUN_RESTORED_STORES);
        1u64
    });
    assert_eq!(tried + failures.len() as u64, DAMAGED_FILES);
    let listed: Vec<String> = failures
        .iter()
        .map(|(seed, message)| format!("  seed {seed}: {message}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} damaged files panicked (input: `damaged_input(seed)`):\n{}",
        failures.len(),
        listed.join("\n")
    );
}

/// Regression files of engine bugs whose fix is pending, which the default test skips; the strict test runs
/// them. Add a name when a new bug is found before its fix, remove it with the fix.
const PENDING_ENGINE_FIXES: &[&str] = &[];

/// Every file of the engine's regression corpus, in name order.
fn engine_regressions() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/regressions/engine");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Pauses wherever a schedule of all-ones bytes can: after every instruction and at every host call.
const EVERYWHERE: [u8; 4096] = [0xff; 4096];

/// Runs a regression file through the snapshot oracles; when `strict`, with [`Schedule::strict`] schedules and
/// restored stores run.
/// A reproducer may come from any fuzz target, so a binary file goes through both oracles, as an input of
/// `snapshot_decode` and of `snapshot_transparency`; a `.wat` file is a hand-reduced module, assembled and run
/// by the transparency oracle with pauses wherever the schedule allows.
fn regression_failures(valid: &[Vec<u8>], path: &Path, strict: bool) -> Vec<String> {
    let schedule = |bytes| {
        if strict {
            Schedule::strict(bytes)
        } else {
            Schedule::new(bytes)
        }
    };
    let mut failures = Vec::new();
    let data = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if path.extension().is_some_and(|ext| ext == "wat") {
        let module = wat::parse_bytes(&data)
            .unwrap_or_else(|e| panic!("assembling {}: {e}", path.display()))
            .into_owned();
        if let Err(message) =
            catch(|| check_transparency(Some(module), schedule(&EVERYWHERE), &snapshots::engine()))
        {
            failures.push(format!(
                "  {} (snapshot_transparency): {message}",
                path.display()
            ));
        }
        return failures;
    }
    let (engine, module) = snapshots::decode_module();
    let input = snapshots::decode_input(&data, valid);
    let run = strict || snapshots::RUN_RESTORED_STORES;
    if let Err(message) = catch(|| snapshots::decode(&engine, &module, &input, run)) {
        failures.push(format!("  {} (snapshot_decode): {message}", path.display()));
    }
    let transparency = || {
        let Some((&len, rest)) = data.split_first() else {
            return Transparency::default();
        };
        let (pauses, smith) = rest.split_at(usize::from(len).min(rest.len()));
        check_transparency(
            generate::module(smith),
            schedule(pauses),
            &snapshots::engine(),
        )
    };
    if let Err(message) = catch(transparency) {
        failures.push(format!(
            "  {} (snapshot_transparency): {message}",
            path.display()
        ));
    }
    failures
}

#[test]
fn engine_regressions_pass_the_snapshot_oracles() {
    let valid = snapshots::valid_snapshots();
    let failures: Vec<String> = engine_regressions()
        .iter()
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            !PENDING_ENGINE_FIXES.contains(&name)
        })
        .flat_map(|path| regression_failures(&valid, path, false))
        .collect();
    assert!(
        failures.is_empty(),
        "regressions failed:\n{}",
        failures.join("\n")
    );
}

/// The same with every file and every pause the oracle knows, those the engine cannot handle yet included.
#[test]
fn engine_regressions_pass_the_strict_snapshot_oracles() {
    let valid = snapshots::valid_snapshots();
    let failures: Vec<String> = engine_regressions()
        .iter()
        .flat_map(|path| regression_failures(&valid, path, true))
        .collect();
    assert!(
        failures.is_empty(),
        "regressions failed:\n{}",
        failures.join("\n")
    );
}
