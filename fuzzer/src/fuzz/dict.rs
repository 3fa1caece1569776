//! Dictionaries: tokens taken from the module itself (strings in its data segments, constants it compares against) and dictionary files in the AFL/libFuzzer format.

use std::collections::BTreeSet;
use std::path::Path;

use wasmparser::{Operator, Parser, Payload};

/// Most tokens taken from one module.
pub const MAX_MODULE_TOKENS: usize = 512;
/// Shortest and longest strings taken from data segments.
const STRING_LEN: std::ops::RangeInclusive<usize> = 3..=32;

/// Why a dictionary file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DictError {
    /// The OS error is the source, not part of the message: error reports print each cause once.
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Syntax {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Tokens for the mutator, from the module's bytes: NUL-terminated printable strings in data segments, and the
/// little-endian bytes of constants that are compared right after being pushed (`i32.const C; i32.eq` and the
/// like). Values below 256 are left out (havoc finds those). Invalid modules give no tokens.
pub fn module_tokens(wasm: &[u8]) -> Vec<Vec<u8>> {
    let mut constants = BTreeSet::new();
    let mut strings = BTreeSet::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::DataSection(reader) => {
                for data in reader.into_iter().flatten() {
                    collect_strings(data.data, &mut strings);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let Ok(reader) = body.get_operators_reader() else {
                    continue;
                };
                let mut previous: Option<Vec<u8>> = None;
                for op in reader {
                    let Ok(op) = op else { break };
                    if let Some(bytes) = previous.take()
                        && is_comparison(&op)
                    {
                        constants.insert(bytes);
                    }
                    previous = match op {
                        Operator::I32Const { value } => constant_bytes(u64::from(value as u32), 4),
                        Operator::I64Const { value } => constant_bytes(value as u64, 8),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    // Comparison constants first: they are fewer and usually matter more than strings.
    constants
        .into_iter()
        .chain(strings)
        .take(MAX_MODULE_TOKENS)
        .collect()
}

fn is_comparison(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::I32Eq
            | O::I32Ne
            | O::I32LtS
            | O::I32LtU
            | O::I32GtS
            | O::I32GtU
            | O::I32LeS
            | O::I32LeU
            | O::I32GeS
            | O::I32GeU
            | O::I64Eq
            | O::I64Ne
            | O::I64LtS
            | O::I64LtU
            | O::I64GtS
            | O::I64GtU
            | O::I64LeS
            | O::I64LeU
            | O::I64GeS
            | O::I64GeU
    )
}

/// The significant little-endian bytes of a constant (2, 4 or 8), or `None` for small or all-ones values.
fn constant_bytes(value: u64, width: usize) -> Option<Vec<u8>> {
    let all_ones = if width == 4 {
        u64::from(u32::MAX)
    } else {
        u64::MAX
    };
    if value < 0x100 || value == all_ones {
        return None;
    }
    let len = if value <= 0xffff {
        2
    } else if value <= 0xffff_ffff {
        4
    } else {
        8
    };
    Some(value.to_le_bytes()[..len].to_vec())
}

fn collect_strings(data: &[u8], out: &mut BTreeSet<Vec<u8>>) {
    for piece in data.split(|&b| b == 0) {
        if STRING_LEN.contains(&piece.len()) && piece.iter().all(|&b| (0x20..0x7f).contains(&b)) {
            out.insert(piece.to_vec());
        }
    }
}

/// Reads a dictionary in the AFL/libFuzzer format: one token per line, `"value"` or `name="value"`, with `\\`,
/// `\"` and `\xNN` escapes; blank lines and `#` comments are skipped.
pub fn read_dictionary(path: &Path) -> Result<Vec<Vec<u8>>, DictError> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| DictError::Io {
        path: shown.clone(),
        source,
    })?;
    parse_dictionary(&text).map_err(|(line, reason)| DictError::Syntax {
        path: shown,
        line,
        reason,
    })
}

/// Parses dictionary text; errors carry the 1-based line number.
pub fn parse_dictionary(text: &[u8]) -> Result<Vec<Vec<u8>>, (usize, String)> {
    let mut tokens = Vec::new();
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = raw.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let fail = |reason: &str| (index + 1, reason.to_string());
        let start = line
            .iter()
            .position(|&b| b == b'"')
            .ok_or_else(|| fail("expected a quoted token"))?;
        let name = line[..start].trim_ascii();
        if !(name.is_empty() || name.ends_with(b"=")) {
            return Err(fail("expected `name=\"value\"` or `\"value\"`"));
        }
        let body = &line[start + 1..];
        if body.last() != Some(&b'"') {
            return Err(fail("the token does not end with a quote"));
        }
        let body = &body[..body.len() - 1];
        let mut token = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\\' => match body.get(i + 1) {
                    Some(b'\\') | Some(b'"') => {
                        token.push(body[i + 1]);
                        i += 2;
                    }
                    Some(b'x') => {
                        let hex = body
                            .get(i + 2..i + 4)
                            .and_then(|h| std::str::from_utf8(h).ok())
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                            .ok_or_else(|| fail("bad \\x escape"))?;
                        token.push(hex);
                        i += 4;
                    }
                    _ => return Err(fail("unknown escape")),
                },
                b => {
                    token.push(b);
                    i += 1;
                }
            }
        }
        if !token.is_empty() {
            tokens.push(token);
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_afl_and_libfuzzer_dictionaries() {
        let text =
            b"# comment\n\nkw1=\"TLV1\"\n\"\\x00\\xffA\\\\\\\"\"\n  header_magic = \"\\x7fELF\"\n";
        let tokens = parse_dictionary(text).expect("valid dictionary");
        assert_eq!(
            tokens,
            vec![
                b"TLV1".to_vec(),
                b"\x00\xffA\\\"".to_vec(),
                b"\x7fELF".to_vec()
            ]
        );
        assert_eq!(parse_dictionary(b"x\n\"ok\"\nnope").unwrap_err().0, 1);
        assert_eq!(parse_dictionary(b"\"\\q\"").unwrap_err().0, 1);
    }

    #[test]
    fn module_tokens_hold_compared_constants_and_strings() {
        let wasm = wat::parse_str(
            r#"(module
                 (memory 1)
                 (data (i32.const 0) "magic-word\00xy\00")
                 (func (param i32) (result i32)
                   (i32.eq (local.get 0) (i32.const 0x31564c54))))"#,
        )
        .expect("valid text");
        let tokens = module_tokens(&wasm);
        assert!(tokens.contains(&b"TLV1".to_vec()), "{tokens:?}");
        assert!(tokens.contains(&b"magic-word".to_vec()), "{tokens:?}");
        assert!(!tokens.contains(&b"xy".to_vec()), "{tokens:?}");
    }
}
