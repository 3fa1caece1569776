//! A test case of the differential fuzzer: a module and the calls to make on it, savable as one `.wasm` file whose custom section holds the calls.

use capicola_engine::{Engine, ExternType, Module, ValType};

use super::engine::{DiffValue, DiffValueType};
use super::rng::Rng;
use crate::values::parse_val;

/// Name of the custom section that carries a case's calls in a saved `.wasm` file.
pub const CALLS_SECTION: &str = "capicola-diff-calls";

/// One call of an exported function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub export: String,
    pub args: Vec<DiffValue>,
}

/// A module and the calls to make on it, in order, on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The module, without the calls section.
    pub wasm: Vec<u8>,
    pub calls: Vec<Call>,
    /// Where the case came from, for reports: `smith`, or the spec script and whether it was mutated.
    pub origin: String,
    /// Varies how the oracles that pause or reset capicola do so (where they pause, what the dirtying run does).
    pub seed: u64,
}

/// Why a saved case cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("not a WebAssembly module: {0}")]
    Parse(String),
    #[error("the `{CALLS_SECTION}` section is malformed: {0}")]
    Calls(String),
}

impl Case {
    /// The case as one module file: the module with the calls appended as a custom section (which no engine
    /// gives a meaning, so the file runs as the module does).
    pub fn to_file(&self) -> Vec<u8> {
        let calls: Vec<serde_json::Value> = self
            .calls
            .iter()
            .map(|call| {
                serde_json::json!({
                    "export": call.export,
                    "args": call.args.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let payload =
            serde_json::json!({ "origin": self.origin, "seed": self.seed, "calls": calls })
                .to_string();
        let mut body = Vec::new();
        leb128(&mut body, CALLS_SECTION.len() as u64);
        body.extend_from_slice(CALLS_SECTION.as_bytes());
        body.extend_from_slice(payload.as_bytes());
        let mut out = self.wasm.clone();
        out.push(0); // custom section id
        leb128(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
        out
    }

    /// Reads a case saved by [`Case::to_file`]. A module without the calls section gets the default calls: every
    /// exported function once, in export order, with zero arguments.
    pub fn from_file(bytes: &[u8]) -> Result<Case, CaseError> {
        let mut found = None;
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| CaseError::Parse(e.to_string()))?;
            if let wasmparser::Payload::CustomSection(reader) = &payload
                && reader.name() == CALLS_SECTION
            {
                let range = reader.range();
                let at = |offset| usize::try_from(offset).unwrap_or(usize::MAX);
                found = Some((at(range.start)..at(range.end), reader.data().to_vec()));
            }
        }
        let Some((range, data)) = found else {
            let calls = default_calls(bytes, |_| None);
            return Ok(Case {
                wasm: bytes.to_vec(),
                calls,
                origin: "a module without saved calls".into(),
                seed: 0,
            });
        };
        // This program writes the section last; it is cut off (with its id and size) so that the module is
        // exactly the one that was run.
        let wasm = if range.end == bytes.len() {
            let start = section_start(bytes, range.start);
            bytes[..start].to_vec()
        } else {
            bytes.to_vec()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&data).map_err(|e| CaseError::Calls(e.to_string()))?;
        let origin = json["origin"].as_str().unwrap_or("").to_string();
        let seed = json["seed"].as_u64().unwrap_or(0);
        let params = export_params(&wasm);
        let mut calls = Vec::new();
        for call in json["calls"].as_array().into_iter().flatten() {
            let export = call["export"]
                .as_str()
                .ok_or_else(|| CaseError::Calls("a call without an export name".into()))?
                .to_string();
            let texts: Vec<&str> = call["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .collect();
            let types = params
                .iter()
                .find(|(name, _)| *name == export)
                .map(|(_, types)| types.clone())
                .ok_or_else(|| CaseError::Calls(format!("no exported function `{export}`")))?;
            if types.len() != texts.len() {
                return Err(CaseError::Calls(format!(
                    "`{export}` takes {} arguments, {} saved",
                    types.len(),
                    texts.len()
                )));
            }
            let args = texts
                .iter()
                .zip(&types)
                .map(|(text, ty)| parse_arg(text, *ty))
                .collect::<Result<Vec<_>, _>>()?;
            calls.push(Call { export, args });
        }
        Ok(Case {
            wasm,
            calls,
            origin,
            seed,
        })
    }
}

/// Where the section whose contents (name included) start at `contents` begins: at its id, before its size.
fn section_start(bytes: &[u8], contents: usize) -> usize {
    let mut at = 8; // magic and version
    while at < bytes.len() {
        let start = at;
        let Some((size, len)) = read_leb128(&bytes[at + 1..]) else {
            break;
        };
        at += 1 + len;
        if at == contents {
            return start;
        }
        at = at.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
    }
    contents
}

fn read_leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn parse_arg(text: &str, ty: DiffValueType) -> Result<DiffValue, CaseError> {
    let val_type = match ty {
        DiffValueType::I32 => ValType::I32,
        DiffValueType::I64 => ValType::I64,
        DiffValueType::F32 => ValType::F32,
        DiffValueType::F64 => ValType::F64,
        DiffValueType::V128 => ValType::V128,
        DiffValueType::FuncRef => ValType::FuncRef,
        DiffValueType::ExternRef => ValType::ExternRef,
    };
    let val = parse_val(text, val_type).map_err(|e| CaseError::Calls(e.to_string()))?;
    Ok(match val {
        capicola_engine::Val::I32(v) => DiffValue::I32(v),
        capicola_engine::Val::I64(v) => DiffValue::I64(v),
        capicola_engine::Val::F32(v) => DiffValue::F32(v),
        capicola_engine::Val::F64(v) => DiffValue::F64(v),
        capicola_engine::Val::V128(v) => DiffValue::V128(v),
        capicola_engine::Val::FuncRef(_) => DiffValue::FuncRef(None),
        capicola_engine::Val::ExternRef(r) => DiffValue::ExternRef(r),
    })
}

/// The exported functions of a module and their parameter types, in export order; empty when capicola does not
/// load the module (the comparison then is about loading it).
pub fn export_params(wasm: &[u8]) -> Vec<(String, Vec<DiffValueType>)> {
    // A panic here is capicola's; the oracle meets it again when it instantiates the module, and reports it.
    let loaded = std::panic::catch_unwind(|| Module::new(&Engine::default(), wasm));
    let Ok(Ok(module)) = loaded else {
        return Vec::new();
    };
    module
        .exports()
        .filter_map(|(name, ty)| match ty {
            ExternType::Func(ty) => Some((
                name.to_string(),
                ty.params().iter().map(|&t| diff_type(t)).collect(),
            )),
            _ => None,
        })
        .collect()
}

fn diff_type(ty: ValType) -> DiffValueType {
    match ty {
        ValType::I32 => DiffValueType::I32,
        ValType::I64 => DiffValueType::I64,
        ValType::F32 => DiffValueType::F32,
        ValType::F64 => DiffValueType::F64,
        ValType::V128 => DiffValueType::V128,
        ValType::FuncRef => DiffValueType::FuncRef,
        ValType::ExternRef => DiffValueType::ExternRef,
    }
}

/// Every exported function once, in export order, with the argument `arg` gives for each parameter type
/// (zero when it gives none).
pub fn default_calls(
    wasm: &[u8],
    mut arg: impl FnMut(DiffValueType) -> Option<DiffValue>,
) -> Vec<Call> {
    export_params(wasm)
        .into_iter()
        .map(|(export, types)| Call {
            export,
            args: types
                .into_iter()
                .map(|t| arg(t).unwrap_or_else(|| DiffValue::zero(t)))
                .collect(),
        })
        .collect()
}

/// A value of type `ty` that tends to find bugs: zeros, ones, extremes, sign and NaN boundaries, and some
/// uniformly random bits.
pub fn interesting(rng: &mut Rng, ty: DiffValueType) -> DiffValue {
    const I32: [i32; 12] = [
        0,
        1,
        -1,
        2,
        i32::MIN,
        i32::MAX,
        0x7f,
        0x80,
        0xff,
        0xffff,
        0x1_0000,
        -0x8000,
    ];
    const I64: [i64; 12] = [
        0,
        1,
        -1,
        2,
        i64::MIN,
        i64::MAX,
        i32::MIN as i64,
        i32::MAX as i64,
        0xffff_ffff,
        0x1_0000_0000,
        0xff,
        -0x8000,
    ];
    const F32: [u32; 12] = [
        0,
        0x8000_0000, // -0
        0x3f80_0000, // 1
        0xbf80_0000, // -1
        0x3f00_0000, // 0.5
        0x7f80_0000, // inf
        0xff80_0000, // -inf
        0x7fc0_0000, // nan
        0x7fa0_0000, // signaling nan
        0x0000_0001, // smallest subnormal
        0x7f7f_ffff, // largest finite
        0x4f00_0000, // 2^31
    ];
    const F64: [u64; 12] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xbff0_0000_0000_0000,
        0x3fe0_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0000,
        0x0000_0000_0000_0001,
        0x7fef_ffff_ffff_ffff,
        0x43e0_0000_0000_0000, // 2^63
    ];
    let random = rng.below(4) == 0;
    let pick = |rng: &mut Rng, n: usize| rng.below(n as u64) as usize;
    match ty {
        DiffValueType::I32 if random => DiffValue::I32(rng.next_u64() as i32),
        DiffValueType::I32 => DiffValue::I32(I32[pick(rng, I32.len())]),
        DiffValueType::I64 if random => DiffValue::I64(rng.next_u64() as i64),
        DiffValueType::I64 => DiffValue::I64(I64[pick(rng, I64.len())]),
        DiffValueType::F32 if random => DiffValue::F32(rng.next_u64() as u32),
        DiffValueType::F32 => DiffValue::F32(F32[pick(rng, F32.len())]),
        DiffValueType::F64 if random => DiffValue::F64(rng.next_u64()),
        DiffValueType::F64 => DiffValue::F64(F64[pick(rng, F64.len())]),
        DiffValueType::V128 if random => {
            DiffValue::V128(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()))
        }
        DiffValueType::V128 => {
            // Four 32-bit lanes of interesting integers or floats.
            let floats = rng.below(2) == 0;
            let mut v = 0u128;
            for lane in 0..4 {
                let bits = if floats {
                    F32[pick(rng, F32.len())]
                } else {
                    I32[pick(rng, I32.len())] as u32
                };
                v |= u128::from(bits) << (32 * lane);
            }
            DiffValue::V128(v)
        }
        DiffValueType::FuncRef => DiffValue::FuncRef(None),
        DiffValueType::ExternRef if rng.below(2) == 0 => DiffValue::ExternRef(None),
        DiffValueType::ExternRef => DiffValue::ExternRef(Some(rng.below(4) as u32)),
    }
}
