//! Scalar numeric semantics of Wasm where Rust's operators differ: trapping division and truncation, float min/max/nearest, and sign-bit operations.

use crate::error::TrapKind;

macro_rules! int_div {
    ($($div_s:ident, $div_u:ident, $rem_s:ident, $rem_u:ident: $s:ty, $u:ty;)*) => {$(
        pub fn $div_s(a: $s, b: $s) -> Result<$s, TrapKind> {
            if b == 0 {
                Err(TrapKind::IntegerDivisionByZero)
            } else if a == <$s>::MIN && b == -1 {
                Err(TrapKind::IntegerOverflow)
            } else {
                Ok(a / b)
            }
        }

        pub fn $div_u(a: $s, b: $s) -> Result<$s, TrapKind> {
            if b == 0 {
                Err(TrapKind::IntegerDivisionByZero)
            } else {
                Ok(((a as $u) / (b as $u)) as $s)
            }
        }

        pub fn $rem_s(a: $s, b: $s) -> Result<$s, TrapKind> {
            if b == 0 {
                Err(TrapKind::IntegerDivisionByZero)
            } else {
                Ok(a.wrapping_rem(b))
            }
        }

        pub fn $rem_u(a: $s, b: $s) -> Result<$s, TrapKind> {
            if b == 0 {
                Err(TrapKind::IntegerDivisionByZero)
            } else {
                Ok(((a as $u) % (b as $u)) as $s)
            }
        }
    )*};
}

int_div! {
    i32_div_s, i32_div_u, i32_rem_s, i32_rem_u: i32, u32;
    i64_div_s, i64_div_u, i64_rem_s, i64_rem_u: i64, u64;
}

/// Defines a trapping float-to-int truncation: the value must lie strictly inside `(lo, hi)` after truncation.
macro_rules! trunc {
    ($($name:ident: $f:ty => $i:ty as $r:ty, lo $lo:expr, lo_inclusive $lo_inc:expr, hi $hi:expr;)*) => {$(
        pub fn $name(x: $f) -> Result<$r, TrapKind> {
            if x.is_nan() {
                return Err(TrapKind::InvalidConversionToInteger);
            }
            let above_lo = if $lo_inc { x >= $lo } else { x > $lo };
            if above_lo && x < $hi {
                Ok(x as $i as $r)
            } else {
                Err(TrapKind::IntegerOverflow)
            }
        }
    )*};
}

trunc! {
    i32_trunc_f32_s: f32 => i32 as i32, lo -2147483648.0f32, lo_inclusive true, hi 2147483648.0f32;
    i32_trunc_f32_u: f32 => u32 as i32, lo -1.0f32, lo_inclusive false, hi 4294967296.0f32;
    i32_trunc_f64_s: f64 => i32 as i32, lo -2147483649.0f64, lo_inclusive false, hi 2147483648.0f64;
    i32_trunc_f64_u: f64 => u32 as i32, lo -1.0f64, lo_inclusive false, hi 4294967296.0f64;
    i64_trunc_f32_s: f32 => i64 as i64, lo -9223372036854775808.0f32, lo_inclusive true, hi 9223372036854775808.0f32;
    i64_trunc_f32_u: f32 => u64 as i64, lo -1.0f32, lo_inclusive false, hi 18446744073709551616.0f32;
    i64_trunc_f64_s: f64 => i64 as i64, lo -9223372036854775808.0f64, lo_inclusive true, hi 9223372036854775808.0f64;
    i64_trunc_f64_u: f64 => u64 as i64, lo -1.0f64, lo_inclusive false, hi 18446744073709551616.0f64;
}

macro_rules! float_ops {
    ($($min:ident, $max:ident, $nearest:ident, $neg:ident, $abs:ident, $copysign:ident: $f:ty, $bits:ty;)*) => {$(
        /// Wasm `min`: NaN if either operand is NaN, and -0 below +0.
        pub fn $min(a: $f, b: $f) -> $f {
            if a.is_nan() || b.is_nan() {
                a + b
            } else if a == b {
                <$f>::from_bits(a.to_bits() | b.to_bits())
            } else if a < b {
                a
            } else {
                b
            }
        }

        /// Wasm `max`: NaN if either operand is NaN, and +0 above -0.
        pub fn $max(a: $f, b: $f) -> $f {
            if a.is_nan() || b.is_nan() {
                a + b
            } else if a == b {
                <$f>::from_bits(a.to_bits() & b.to_bits())
            } else if a > b {
                a
            } else {
                b
            }
        }

        /// Round to nearest, ties to even.
        pub fn $nearest(a: $f) -> $f {
            quiet(a.round_ties_even())
        }

        pub fn $neg(a: $f) -> $f {
            <$f>::from_bits(a.to_bits() ^ (1 << (<$bits>::BITS - 1)))
        }

        pub fn $abs(a: $f) -> $f {
            <$f>::from_bits(a.to_bits() & !(1 << (<$bits>::BITS - 1)))
        }

        pub fn $copysign(a: $f, b: $f) -> $f {
            let sign: $bits = 1 << (<$bits>::BITS - 1);
            <$f>::from_bits((a.to_bits() & !sign) | (b.to_bits() & sign))
        }
    )*};
}

/// Wasm requires NaN results of arithmetic to be quiet; some Rust float functions pass a signaling NaN through.
pub trait Quiet: Copy {
    fn quieted(self) -> Self;
}

impl Quiet for f32 {
    fn quieted(self) -> f32 {
        f32::from_bits(self.to_bits() | 0x0040_0000)
    }
}

impl Quiet for f64 {
    fn quieted(self) -> f64 {
        f64::from_bits(self.to_bits() | 0x0008_0000_0000_0000)
    }
}

#[inline(always)]
fn quiet<F: Quiet + PartialEq>(x: F) -> F {
    // NaN is the only value unequal to itself.
    #[allow(clippy::eq_op)]
    if x != x { x.quieted() } else { x }
}

macro_rules! rounding {
    ($($name:ident: $f:ty = $method:ident;)*) => {$(
        pub fn $name(a: $f) -> $f {
            quiet(a.$method())
        }
    )*};
}

rounding! {
    f32_ceil: f32 = ceil;
    f32_floor: f32 = floor;
    f32_trunc: f32 = trunc;
    f32_sqrt: f32 = sqrt;
    f64_ceil: f64 = ceil;
    f64_floor: f64 = floor;
    f64_trunc: f64 = trunc;
    f64_sqrt: f64 = sqrt;
}

float_ops! {
    f32_min, f32_max, f32_nearest, f32_neg, f32_abs, f32_copysign: f32, u32;
    f64_min, f64_max, f64_nearest, f64_neg, f64_abs, f64_copysign: f64, u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_traps() {
        assert_eq!(i32_div_s(i32::MIN, -1), Err(TrapKind::IntegerOverflow));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i64_div_u(1, 0), Err(TrapKind::IntegerDivisionByZero));
        assert_eq!(i32_div_u(-1, 2), Ok(0x7fff_ffff));
    }

    #[test]
    fn truncation_bounds() {
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(
            i32_trunc_f32_s(2147483648.0),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f64_u(4294967295.9), Ok(-1));
        assert_eq!(
            i64_trunc_f64_u(f64::NAN),
            Err(TrapKind::InvalidConversionToInteger)
        );
    }

    #[test]
    fn min_max_zero_and_nan() {
        assert!(f32_min(-0.0, 0.0).is_sign_negative());
        assert!(f32_max(-0.0, 0.0).is_sign_positive());
        assert!(f64_min(1.0, f64::NAN).is_nan());
        assert_eq!(f64_nearest(2.5), 2.0);
        assert_eq!(f32_nearest(-3.5), -4.0);
    }
}
