//! Wasm values as text: parsing a command-line argument by its parameter type, and printing a value with its type (`42:i32`).

use capicola_engine::{Val, ValType};
use wast::parser::{self, Parse, ParseBuffer};

/// Why a piece of text is not a value of the wanted type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {ty}: {reason}")]
pub struct ParseValError {
    /// The text as given.
    pub text: String,
    /// The type it was parsed as.
    pub ty: ValType,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses `text` as a value of type `ty`.
///
/// Numbers use the WebAssembly text syntax (`42`, `-1`, `0x7f`, `-1.5`, `0x1p-3`, `inf`,
/// `nan`, `nan:0x200000`); a v128 is `0x` followed by 32 hex digits (the value as one
/// little-endian 128-bit number) or a lane list such as `i32x4 1 2 3 4`; a reference is
/// `null`, and an externref may also be `N` or `extern:N`. The `:type` suffix that
/// [`format_val`] prints is accepted too, so printed results can be passed back in.
pub fn parse_val(text: &str, ty: ValType) -> Result<Val, ParseValError> {
    let error = |reason: String| ParseValError {
        text: text.to_string(),
        ty,
        reason,
    };
    let body = strip_type_suffix(text, ty).map_err(error)?;
    match ty {
        ValType::I32 => parse_token::<i32>(body).map(Val::I32),
        ValType::I64 => parse_token::<i64>(body).map(Val::I64),
        ValType::F32 => parse_token::<wast::token::F32>(body).map(|f| Val::F32(f.bits)),
        ValType::F64 => parse_token::<wast::token::F64>(body).map(|f| Val::F64(f.bits)),
        ValType::V128 => parse_v128(body).map(Val::V128),
        ValType::FuncRef => match body {
            "null" => Ok(Val::FuncRef(None)),
            _ => Err("only `null` can be passed as a funcref".to_string()),
        },
        ValType::ExternRef => parse_externref(body).map(Val::ExternRef),
    }
    .map_err(error)
}

/// Prints a value followed by its type: `42:i32`, `-1.5:f64`, `nan:0x200000:f32`,
/// `0x…:v128` (32 hex digits), `null:funcref`, `func:N:funcref`, `extern:N:externref`.
pub fn format_val(val: Val) -> String {
    let ty = val.ty();
    let body = match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32_text(bits),
        Val::F64(bits) => f64_text(bits),
        Val::V128(bits) => format!("0x{bits:032x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(func)) => format!("func:{}", func.index()),
        Val::ExternRef(Some(n)) => format!("extern:{n}"),
    };
    format!("{body}:{ty}")
}

/// The text of an f32 given by its bits, without a type suffix.
pub fn f32_text(bits: u32) -> String {
    let value = f32::from_bits(bits);
    if value.is_nan() {
        nan_text(bits >> 31 == 1, u64::from(bits & 0x007f_ffff), 1 << 22)
    } else {
        format!("{value:?}")
    }
}

/// The text of an f64 given by its bits, without a type suffix.
pub fn f64_text(bits: u64) -> String {
    let value = f64::from_bits(bits);
    if value.is_nan() {
        nan_text(bits >> 63 == 1, bits & 0x000f_ffff_ffff_ffff, 1 << 51)
    } else {
        format!("{value:?}")
    }
}

/// `nan` for the canonical NaN, `nan:0x…` with the payload otherwise; `-` in front when negative.
fn nan_text(negative: bool, payload: u64, canonical_payload: u64) -> String {
    let sign = if negative { "-" } else { "" };
    if payload == canonical_payload {
        format!("{sign}nan")
    } else {
        format!("{sign}nan:0x{payload:x}")
    }
}

/// Removes a trailing `:type`; a suffix naming another type is an error.
fn strip_type_suffix(text: &str, ty: ValType) -> Result<&str, String> {
    const TYPE_NAMES: [&str; 7] = ["i32", "i64", "f32", "f64", "v128", "funcref", "externref"];
    match text.rsplit_once(':') {
        Some((body, suffix)) if suffix == ty.to_string() => Ok(body),
        Some((_, suffix)) if TYPE_NAMES.contains(&suffix) => Err(format!(
            "it is typed `{suffix}` but the parameter is `{ty}`"
        )),
        _ => Ok(text),
    }
}

/// Parses all of `text` as one `T` of the WebAssembly text format.
fn parse_token<T>(text: &str) -> Result<T, String>
where
    T: for<'a> Parse<'a>,
{
    let buffer = ParseBuffer::new(text).map_err(|e| e.message())?;
    parser::parse::<T>(&buffer).map_err(|e| e.message())
}

fn parse_v128(text: &str) -> Result<u128, String> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.len() != 32 {
            return Err(format!(
                "expected 32 hex digits after `0x`, found {}",
                hex.len()
            ));
        }
        return u128::from_str_radix(hex, 16).map_err(|e| e.to_string());
    }
    parse_token::<wast::core::V128Const>(text).map(|c| u128::from_le_bytes(c.to_le_bytes()))
}

fn parse_externref(text: &str) -> Result<Option<u32>, String> {
    if text == "null" {
        return Ok(None);
    }
    let number = text.strip_prefix("extern:").unwrap_or(text);
    number
        .parse::<u32>()
        .map(Some)
        .map_err(|_| "expected `null`, `N` or `extern:N`".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_in_wat_syntax() {
        assert_eq!(parse_val("42", ValType::I32), Ok(Val::I32(42)));
        assert_eq!(parse_val("-1", ValType::I64), Ok(Val::I64(-1)));
        assert_eq!(parse_val("0x7f", ValType::I32), Ok(Val::I32(127)));
        assert_eq!(parse_val("4294967295", ValType::I32), Ok(Val::I32(-1)));
        assert_eq!(parse_val("7:i32", ValType::I32), Ok(Val::I32(7)));
        assert!(parse_val("7:i64", ValType::I32).is_err());
        assert!(parse_val("1.5", ValType::I32).is_err());
        assert!(parse_val("4294967296", ValType::I32).is_err());
    }

    #[test]
    fn floats_keep_their_bits() {
        assert_eq!(
            parse_val("-1.5", ValType::F64),
            Ok(Val::F64((-1.5f64).to_bits()))
        );
        assert_eq!(parse_val("nan", ValType::F32), Ok(Val::F32(0x7fc0_0000)));
        assert_eq!(
            parse_val("nan:0x200000", ValType::F32),
            Ok(Val::F32(0x7fa0_0000))
        );
        assert_eq!(parse_val("-inf", ValType::F32), Ok(Val::F32(0xff80_0000)));
        assert_eq!(
            parse_val("0x1p-1", ValType::F32),
            Ok(Val::F32(0.5f32.to_bits()))
        );
    }

    #[test]
    fn values_print_with_their_type() {
        assert_eq!(format_val(Val::I32(42)), "42:i32");
        assert_eq!(format_val(Val::I64(-1)), "-1:i64");
        assert_eq!(format_val(Val::F64((-1.5f64).to_bits())), "-1.5:f64");
        assert_eq!(format_val(Val::F32(0x7fc0_0000)), "nan:f32");
        assert_eq!(format_val(Val::F32(0xffc0_0000)), "-nan:f32");
        assert_eq!(format_val(Val::F32(0x7fa0_0000)), "nan:0x200000:f32");
        assert_eq!(format_val(Val::F64(f64::INFINITY.to_bits())), "inf:f64");
        assert_eq!(
            format_val(Val::V128(1)),
            format!("0x{}1:v128", "0".repeat(31))
        );
        assert_eq!(format_val(Val::FuncRef(None)), "null:funcref");
        assert_eq!(format_val(Val::ExternRef(Some(3))), "extern:3:externref");
    }

    #[test]
    fn printed_values_parse_back() {
        let values = [
            Val::I32(i32::MIN),
            Val::I64(i64::MAX),
            Val::F32(0x7fa0_0000),
            Val::F32(1e30f32.to_bits()),
            Val::F64(0.1f64.to_bits()),
            Val::F64((-0.0f64).to_bits()),
            Val::V128(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
            Val::ExternRef(Some(9)),
            Val::ExternRef(None),
        ];
        for val in values {
            assert_eq!(parse_val(&format_val(val), val.ty()), Ok(val));
        }
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        assert_eq!(parse_val("i32x4 1 0 0 0", ValType::V128), Ok(Val::V128(1)));
        assert!(parse_val("0x12", ValType::V128).is_err());
    }
}
