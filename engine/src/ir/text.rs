//! Wasm text for the disassembler: instruction names, memory arguments and constants as the text format writes them.

/// The Wasm text name of the operator named `name` in `wasmparser::Operator` (`I32TruncSatF32S` is
/// `i32.trunc_sat_f32_s`): the type prefix, a dot, then the words of the rest in lower case joined by `_`, a
/// word being a capital letter with the lower-case letters and digits after it (`8x16` and `32` stick to the word
/// before them, the prefix's digits to it).
pub(crate) fn mnemonic(name: &str) -> String {
    // Names the rule does not give.
    let name = match name {
        "V128AndNot" => return "v128.andnot".into(),
        "I16x8Q15MulrSatS" => return "i16x8.q15mulr_sat_s".into(),
        "F32x4PMin" => return "f32x4.pmin".into(),
        "F32x4PMax" => return "f32x4.pmax".into(),
        "F64x2PMin" => return "f64x2.pmin".into(),
        "F64x2PMax" => return "f64x2.pmax".into(),
        other => other,
    };
    let prefix_len = [
        "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2", "V128", "I32", "I64", "F32", "F64",
    ]
    .iter()
    .find(|p| name.starts_with(**p))
    .map_or(0, |p| p.len());
    let (prefix, rest) = name.split_at(prefix_len);
    let mut out = prefix.to_ascii_lowercase();
    out.push('.');
    let mut first = true;
    for c in rest.chars() {
        if c.is_ascii_uppercase() {
            if !first {
                out.push('_');
            }
            first = false;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    // Words the text format writes as one.
    out.replace("ext_add", "extadd")
        .replace("ext_mul", "extmul")
}

/// A memory argument: the memory's index unless it is 0, then the offset unless it is 0, each after a space.
pub(crate) fn memarg(mem: u32, offset: u64) -> String {
    let mut out = String::new();
    if mem != 0 {
        out.push_str(&format!(" {mem}"));
    }
    if offset != 0 {
        out.push_str(&format!(" offset={offset}"));
    }
    out
}

/// A float constant in the text format: `nan:0x...` with its payload, `inf`, or the shortest decimal that reads
/// back as the value.
pub(crate) fn float(value: f64, payload: u32) -> String {
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value.is_nan() {
        format!("{sign}nan:{payload:#x}")
    } else if value.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{value:?}")
    }
}

/// A constant's bits as the signed number the text format shows.
pub(crate) trait Signed {
    fn signed(self) -> i64;
}

impl Signed for u32 {
    fn signed(self) -> i64 {
        i64::from(self as i32)
    }
}

impl Signed for u64 {
    fn signed(self) -> i64 {
        self as i64
    }
}

pub(crate) fn signed(value: impl Signed) -> i64 {
    value.signed()
}

/// The next sample value of a field: 1, 2, ... (see `Op::samples`).
pub(crate) fn sample<T: From<u8>>(counter: &mut u8) -> T {
    *counter += 1;
    T::from(*counter)
}
