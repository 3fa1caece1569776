//! Snapshots taken at every instruction boundary restore into fresh stores that finish exactly like the uninterrupted run.

#![allow(clippy::unwrap_used)]

use capicola_engine::{
    DecodeLimits, Engine, Error, FORMAT_VERSION, FilePart, Linker, Module, Outcome, Snapshot,
    SnapshotDamage, Store, Val,
};
use crc32c::crc32c;

const PROGRAM: &str = r#"
(module
  (memory (export "mem") 1)
  (global $g (export "g") (mut i64) (i64.const 7))
  (table 4 funcref)
  (elem (i32.const 0) $sq $fib)
  (type $t (func (param i32) (result i32)))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $fib (type $t)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (param $n i32) (result i32 i64 v128)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.mul (local.get $i) (i32.const 4))
          (call_indirect (type $t) (local.get $i) (i32.and (local.get $i) (i32.const 1))))
        (local.set $acc (i32.add (local.get $acc) (i32.load (i32.mul (local.get $i) (i32.const 4)))))
        (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get $acc))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc) (global.get $g) (v128.load (i32.const 0))))
"#;

fn setup(engine: &Engine) -> (Module, Store, capicola_engine::Func) {
    let module = Module::new(engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let Some(capicola_engine::Extern::Func(run)) = store.instance_export(instance, "run") else {
        panic!("no export")
    };
    (module, store, run)
}

fn finish(store: &mut Store) -> Vec<Val> {
    match store.run(u64::MAX) {
        Outcome::Finished(v) => v,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn every_boundary_round_trips_through_bytes() {
    let engine = Engine::default();
    let (module, mut straight, run) = setup(&engine);
    straight.invoke(run, &[Val::I32(12)]).unwrap();
    let expected = finish(&mut straight);
    let expected_mem = straight.capture();

    let (_, mut stepped, _) = setup(&engine);
    stepped.invoke(run, &[Val::I32(12)]).unwrap();
    let mut pauses = 0;
    let result = loop {
        match stepped.run(1) {
            Outcome::OutOfFuel => {
                pauses += 1;
                let bytes = stepped.capture().to_bytes().unwrap();
                let snap = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).unwrap();
                let fresh = Store::restore(&engine, &snap, std::slice::from_ref(&module)).unwrap();
                if pauses % 97 == 0 {
                    // A restored store also finishes on its own with the same results.
                    assert_eq!(
                        finish(&mut fresh.clone()),
                        expected,
                        "diverged after pause {pauses}"
                    );
                }
                stepped = fresh;
            }
            Outcome::Finished(v) => break v,
            other => panic!("unexpected outcome {other:?}"),
        }
    };
    assert!(pauses > 1000, "only {pauses} pauses");
    assert_eq!(result, expected);
    // Memories, globals and tables end up identical too.
    let end = Snapshot::from_bytes(
        &stepped.capture().to_bytes().unwrap(),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(end, expected_mem);
}

#[test]
fn restoring_against_another_module_is_an_error() {
    let engine = Engine::default();
    let (_, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(3)]).unwrap();
    assert_eq!(store.run(10), Outcome::OutOfFuel);
    let snap = store.capture();
    let other = Module::new(&engine, &wat::parse_str("(module)").unwrap()).unwrap();
    let err = Store::restore(&engine, &snap, &[other]).unwrap_err();
    assert!(err.to_string().contains("needs module"), "{err}");
}

/// Every damage a file can take after it was written — each single-bit flip, each swap of two adjacent different
/// bytes, each truncation, each extension — is refused by decoding, before anything is restored or run.
#[test]
fn every_damaged_file_is_rejected_before_it_is_decoded() {
    let engine = Engine::default();
    let (_, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(5)]).unwrap();
    assert_eq!(store.run(100), Outcome::OutOfFuel);
    let bytes = store.capture().to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let (_, body_at) = Snapshot::read_header(&bytes, &limits).unwrap();
    let rejected = |damaged: &[u8], what: &str| match Snapshot::from_bytes(damaged, &limits) {
        Err(Error::SnapshotDamaged(_) | Error::SnapshotVersion { .. }) => {}
        other => panic!("{what}: {other:?}"),
    };
    let mut tried = 0;
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            rejected(&flipped, &format!("bit {bit} of byte {at} flipped"));
            tried += 1;
        }
    }
    for at in 0..bytes.len() - 1 {
        if bytes[at] != bytes[at + 1] {
            let mut swapped = bytes.clone();
            swapped.swap(at, at + 1);
            rejected(&swapped, &format!("bytes {at} and {} swapped", at + 1));
            tried += 1;
        }
    }
    for len in 0..bytes.len() {
        rejected(&bytes[..len], &format!("cut at {len}"));
        tried += 1;
    }
    for tail in [&b"\0"[..], b"tail", &bytes[body_at..]] {
        rejected(&[bytes.as_slice(), tail].concat(), "extended");
        tried += 1;
    }
    assert!(tried > 9 * bytes.len(), "{tried} damaged files");
}

/// Damage names what is damaged: the header or the body, and where a cut file ends.
#[test]
fn damage_is_named() {
    let engine = Engine::default();
    let (_, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(5)]).unwrap();
    assert_eq!(store.run(100), Outcome::OutOfFuel);
    let bytes = store.capture().to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let (_, body_at) = Snapshot::read_header(&bytes, &limits).unwrap();
    let damage = |bytes: &[u8]| match Snapshot::from_bytes(bytes, &limits) {
        Err(Error::SnapshotDamaged(damage)) => damage,
        other => panic!("{other:?}"),
    };
    let mut header = bytes.clone();
    header[20] ^= 4;
    assert!(matches!(
        damage(&header),
        SnapshotDamage::HeaderChecksum { .. }
    ));
    let mut body = bytes.clone();
    body[body_at + 3] ^= 4;
    assert!(matches!(damage(&body), SnapshotDamage::BodyChecksum { .. }));
    let cut = damage(&bytes[..bytes.len() - 1]);
    assert_eq!(
        cut,
        SnapshotDamage::Truncated {
            part: FilePart::Body,
            at: bytes.len() as u64 - 1,
            needed: bytes.len() as u64,
        }
    );
    assert_eq!(
        cut.to_string(),
        format!(
            "truncated at byte {}: the body ends at byte {}",
            bytes.len() - 1,
            bytes.len()
        )
    );
    assert!(matches!(
        damage(&bytes[..body_at - 1]),
        SnapshotDamage::Truncated {
            part: FilePart::Header,
            ..
        }
    ));
    assert_eq!(damage(b"(module)"), SnapshotDamage::BadMagic);
}

/// A file of an older format version gets a message saying so, not a decoding error.
#[test]
fn an_older_format_version_is_named() {
    let engine = Engine::default();
    let (_, store, _) = setup(&engine);
    let mut bytes = store.capture().to_bytes().unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let error = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(error, Error::SnapshotVersion { found: 2 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "snapshot format version 2: written by an older capicola; this build reads version {FORMAT_VERSION}"
        )
    );
}

/// A small file whose checksums hold but whose header claims a huge body is refused before the body is allocated:
/// over the limit, or more than LZ4 can expand the bytes that are there.
#[test]
fn a_small_file_claiming_a_huge_body_is_refused_unallocated() {
    let engine = Engine::default();
    let (_, store, _) = setup(&engine);
    let snap = store.capture();
    let file = snap.to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let (header, body_at) = Snapshot::read_header(&file, &limits).unwrap();
    // The raw-length field is the first of the four fields before the body; the header checksum is recomputed.
    let claiming = |raw_len: u64| {
        let mut bytes = file.clone();
        let field = body_at - 24;
        bytes[field..field + 8].copy_from_slice(&raw_len.to_le_bytes());
        let checksum = crc32c(&bytes[..body_at - 4]);
        bytes[body_at - 4..body_at].copy_from_slice(&checksum.to_le_bytes());
        bytes
    };
    assert_eq!(
        Snapshot::from_bytes(&claiming(header.raw_len), &limits).unwrap(),
        snap
    );
    let huge = 8u64 << 30;
    match Snapshot::from_bytes(&claiming(huge), &limits) {
        Err(Error::SnapshotDamaged(SnapshotDamage::Body(message))) => {
            assert!(message.contains("cannot decompress"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // A body LZ4 could expand that far is still refused over the limit.
    let small = DecodeLimits {
        max_body_bytes: 1 << 10,
        ..limits
    };
    let ones = Snapshot::file_from_raw_body(snap.module_hashes(), &[1; 64 << 10]).unwrap();
    match Snapshot::from_bytes(&ones, &small) {
        Err(Error::SnapshotTooLarge { claimed, limit }) => {
            assert_eq!((claimed, limit), (64 << 10, 1 << 10))
        }
        other => panic!("{other:?}"),
    }
    assert!(ones.len() as u64 <= small.max_file_bytes());
    for claim in [huge, u64::MAX] {
        assert!(matches!(
            Snapshot::from_bytes(&claiming(claim), &small),
            Err(Error::SnapshotTooLarge { .. })
        ));
    }
}

/// A file made by hand, with valid checksums around a hostile body, decodes to an error or a snapshot: never a
/// panic, and a snapshot that restores runs.
#[test]
fn hostile_bodies_give_errors_not_panics() {
    let engine = Engine::default();
    let (module, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(5)]).unwrap();
    assert_eq!(store.run(100), Outcome::OutOfFuel);
    let snap = store.capture();
    let file = snap.to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let (header, body_at) = Snapshot::read_header(&file, &limits).unwrap();
    let raw = lz4_decompress(&file[body_at..], header.raw_len as usize);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut rejected = 0;
    for _ in 0..3000 {
        let mut b = raw.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            b[i] ^= 1 << (next() % 8);
        }
        let bytes = Snapshot::file_from_raw_body(snap.module_hashes(), &b).unwrap();
        // Either decoding or restoring refuses the body, or it restores into a store that runs.
        match Snapshot::from_bytes(&bytes, &limits) {
            Ok(snap) => {
                if let Ok(mut s) = Store::restore(&engine, &snap, std::slice::from_ref(&module)) {
                    let _ = s.run(100_000);
                }
            }
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > 0);
}

/// The body of a snapshot file, decompressed.
fn lz4_decompress(body: &[u8], raw_len: usize) -> Vec<u8> {
    lz4_flex::block::decompress(body, raw_len).unwrap()
}

/// Headers made by hand, with their checksum recomputed: every single-bit flip of every header field, the header
/// length included, gives an error or the same snapshot, never a panic.
#[test]
fn hostile_headers_with_valid_checksums_give_errors_not_panics() {
    let engine = Engine::default();
    let (_, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(5)]).unwrap();
    assert_eq!(store.run(100), Outcome::OutOfFuel);
    let snap = store.capture();
    let file = snap.to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let (_, body_at) = Snapshot::read_header(&file, &limits).unwrap();
    let mut accepted = 0;
    for at in 12..body_at - 4 {
        for bit in 0..8 {
            let mut bytes = file.clone();
            bytes[at] ^= 1 << bit;
            // The checksum sits where the (possibly flipped) header length says the header ends.
            let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
            if (8..=bytes.len()).contains(&header_len) {
                let checksum = crc32c(&bytes[..header_len - 4]);
                bytes[header_len - 4..header_len].copy_from_slice(&checksum.to_le_bytes());
            }
            match Snapshot::from_bytes(&bytes, &limits) {
                Ok(decoded) => {
                    assert_eq!(decoded, snap, "bit {bit} of byte {at}");
                    accepted += 1;
                }
                Err(
                    Error::SnapshotDamaged(_)
                    | Error::SnapshotTooLarge { .. }
                    | Error::SnapshotVersion { .. },
                ) => {}
                Err(other) => panic!("bit {bit} of byte {at}: {other:?}"),
            }
        }
    }
    // Only the engine version's text may change and still decode.
    assert!(accepted <= 8 * 5, "{accepted} accepted");
}
