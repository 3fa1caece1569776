//! WebAssembly's fixed-width SIMD (v128) instructions as pure functions over `u128` values, lane 0 in the least significant bits.

use std::ops::{Add, Mul};

/// A lane type: an integer or float stored in `BITS` bits of a `u128`.
trait Lane: Copy {
    const BITS: u32;
    /// The lane held in the low `BITS` bits of `raw` (higher bits ignored).
    fn from_raw(raw: u128) -> Self;
    /// The lane's bits, zero-extended.
    fn raw(self) -> u128;
}

macro_rules! int_lane {
    ($($t:ty => $u:ty),*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$t>::BITS;
            fn from_raw(raw: u128) -> Self {
                raw as $t
            }
            fn raw(self) -> u128 {
                self as $u as u128
            }
        }
    )*};
}
int_lane!(i8 => u8, u8 => u8, i16 => u16, u16 => u16, i32 => u32, u32 => u32, i64 => u64, u64 => u64);

/// A float lane type.
trait Float: Lane + PartialOrd {
    /// The quiet-NaN bit of the representation.
    const QUIET: u128;
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
}

macro_rules! float_lane {
    ($($t:ident => $u:ty, $quiet:expr);*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$u>::BITS;
            fn from_raw(raw: u128) -> Self {
                $t::from_bits(raw as $u)
            }
            fn raw(self) -> u128 {
                u128::from($t::to_bits(self))
            }
        }
        impl Float for $t {
            const QUIET: u128 = $quiet;
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            fn is_sign_negative(self) -> bool {
                $t::is_sign_negative(self)
            }
        }
    )*};
}
float_lane!(f32 => u32, 1 << 22; f64 => u64, 1 << 51);

/// Whole-register ("SWAR") forms of the lane operations that hot loops use most: a few 128-bit integer
/// operations instead of a loop over the lanes. `tests::swar_agrees` checks each against the lane-by-lane code.
/// The public operations built on them are `#[inline(never)]`: inlined into the interpreter's dispatch loop, they
/// change how its registers are allocated, which costs every other op more than the call saves.
mod swar {
    /// A one in the lowest bit of every `bits`-wide lane.
    pub(super) const fn ones(bits: u32) -> u128 {
        u128::MAX / super::low_mask(bits)
    }

    /// A one in the highest bit of every `bits`-wide lane.
    pub(super) const fn highs(bits: u32) -> u128 {
        ones(bits) << (bits - 1)
    }

    /// Lane-wise wrapping addition: the lanes' low bits add without carrying into the next lane, the high bits
    /// by exclusive or.
    pub(super) const fn add(a: u128, b: u128, bits: u32) -> u128 {
        let h = highs(bits);
        ((a & !h) + (b & !h)) ^ ((a ^ b) & h)
    }

    /// Lane-wise wrapping subtraction: every lane of the minuend has its high bit set, so no lane borrows from
    /// the next, and the high bits are put right afterwards.
    pub(super) const fn sub(a: u128, b: u128, bits: u32) -> u128 {
        let h = highs(bits);
        ((a | h) - (b & !h)) ^ ((a ^ !b) & h)
    }

    /// All-ones bytes where the bytes of `a` and `b` are equal, zero bytes elsewhere.
    pub(super) const fn eq8(a: u128, b: u128) -> u128 {
        let x = a ^ b;
        let low7 = !highs(8);
        // The high bit of each byte of `nonzero` is set when that byte of `x` is not zero: adding 0x7f to the low
        // seven bits carries into the high bit (never past it) exactly when they are not all zero.
        let nonzero = (((x & low7) + low7) | x) & highs(8);
        ((nonzero ^ highs(8)) >> 7) * 0xff
    }

    /// Sign-extends the low half of every `bits`-wide lane (whose high half is zero) to the whole lane.
    pub(super) const fn sign_extend_low_half(a: u128, bits: u32) -> u128 {
        let half = bits / 2;
        // Multiplying each lane's half-width sign bit (0 or 1 << (half - 1)) by 2^(half+1) - 2 sets the lane's
        // high half when that bit is set; the products stay inside their lanes.
        a | ((a & (ones(bits) << (half - 1))) * ((1 << (half + 1)) - 2))
    }

    /// Adds the sign-extended halves of every `bits`-wide lane: `extadd_pairwise` of the half-width lanes.
    pub(super) const fn ext_add_pairwise_s(a: u128, bits: u32) -> u128 {
        let half = bits / 2;
        let low_halves = ones(bits) * ((1 << half) - 1);
        let lo = sign_extend_low_half(a & low_halves, bits);
        let hi = sign_extend_low_half((a >> half) & low_halves, bits);
        add(lo, hi, bits)
    }
}

/// Ones in the low `width` bits (`width` in 1..=128).
const fn low_mask(width: u32) -> u128 {
    u128::MAX >> (128 - width)
}

/// Bit offset of lane `lane` of width `width`, the index taken modulo the lane count.
fn lane_shift(width: u32, lane: u8) -> u32 {
    (u32::from(lane) % (128 / width)) * width
}

fn get_bits(a: u128, width: u32, lane: u8) -> u128 {
    (a >> lane_shift(width, lane)) & low_mask(width)
}

fn set_bits(a: u128, width: u32, lane: u8, x: u128) -> u128 {
    let shift = lane_shift(width, lane);
    (a & !(low_mask(width) << shift)) | ((x & low_mask(width)) << shift)
}

/// The lanes of `a`, lane 0 first.
fn lanes<T: Lane>(a: u128) -> impl Iterator<Item = T> {
    (0..128 / T::BITS).map(move |i| T::from_raw(a >> (i * T::BITS)))
}

/// The low (`high == false`) or high half of the lanes of `a`.
fn half<T: Lane>(a: u128, high: bool) -> impl Iterator<Item = T> {
    let n = (128 / T::BITS) as usize / 2;
    lanes(a).skip(if high { n } else { 0 }).take(n)
}

/// Packs lanes from lane 0 upwards; missing lanes are zero, extra ones ignored.
fn pack<T: Lane>(lanes: impl IntoIterator<Item = T>) -> u128 {
    (0..128 / T::BITS)
        .zip(lanes)
        .fold(0, |acc, (i, x)| acc | (x.raw() << (i * T::BITS)))
}

/// Consecutive pairs of `it` combined by `f`.
fn pairs<T, U>(mut it: impl Iterator<Item = T>, f: impl Fn(T, T) -> U) -> impl Iterator<Item = U> {
    std::iter::from_fn(move || Some(f(it.next()?, it.next()?)))
}

fn get_lane<T: Lane>(a: u128, lane: u8) -> T {
    T::from_raw(get_bits(a, T::BITS, lane))
}

fn with_lane<T: Lane>(a: u128, lane: u8, x: T) -> u128 {
    set_bits(a, T::BITS, lane, x.raw())
}

fn splat<T: Lane>(x: T) -> u128 {
    pack(std::iter::repeat(x))
}

fn map<T: Lane, U: Lane>(a: u128, f: impl Fn(T) -> U) -> u128 {
    pack(lanes(a).map(f))
}

fn zip<T: Lane, U: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> U) -> u128 {
    pack(lanes(a).zip(lanes(b)).map(|(x, y)| f(x, y)))
}

/// Lane-wise comparison: all-ones lanes where `f` holds, zero elsewhere.
fn cmp<T: Lane>(a: u128, b: u128, f: impl Fn(&T, &T) -> bool) -> u128 {
    zip(a, b, |x, y| {
        T::from_raw(if f(&x, &y) { u128::MAX } else { 0 })
    })
}

fn all_true<T: Lane>(a: u128) -> i32 {
    i32::from(lanes::<T>(a).all(|x| x.raw() != 0))
}

fn bitmask<T: Lane>(a: u128) -> i32 {
    lanes::<T>(a).zip(0..).fold(0, |m, (x, i)| {
        m | (((x.raw() >> (T::BITS - 1)) as i32) << i)
    })
}

fn extend<T: Lane, W: Lane + From<T>>(a: u128, high: bool) -> u128 {
    pack(half::<T>(a, high).map(W::from))
}

fn ext_mul<T: Lane, W: Lane + From<T> + Mul<Output = W>>(a: u128, b: u128, high: bool) -> u128 {
    pack(
        half::<T>(a, high)
            .zip(half::<T>(b, high))
            .map(|(x, y)| W::from(x) * W::from(y)),
    )
}

fn ext_add_pairwise<T: Lane, W: Lane + From<T> + Add<Output = W>>(a: u128) -> u128 {
    pack(pairs(lanes::<T>(a), |x, y| W::from(x) + W::from(y)))
}

/// The lanes of `a` then those of `b`, each narrowed by `f`.
fn narrow<T: Lane, U: Lane>(a: u128, b: u128, f: impl Fn(T) -> U) -> u128 {
    pack(lanes(a).chain(lanes(b)).map(f))
}

/// `x` with its quiet bit set if it is a NaN, so NaN results are arithmetic NaNs.
fn quiet<T: Float>(x: T) -> T {
    if x.is_nan() {
        T::from_raw(x.raw() | T::QUIET)
    } else {
        x
    }
}

fn fmap<T: Float, U: Float>(a: u128, f: impl Fn(T) -> U) -> u128 {
    map(a, |x| quiet(f(x)))
}

fn fzip<T: Float>(a: u128, b: u128, f: impl Fn(T, T) -> T) -> u128 {
    zip(a, b, |x, y| quiet(f(x, y)))
}

/// Wasm `min`: NaN if either is NaN, and -0 is less than +0.
fn fmin<T: Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() {
        quiet(if x.is_nan() { x } else { y })
    } else if x < y || (x == y && x.is_sign_negative()) {
        x
    } else {
        y
    }
}

/// Wasm `max`: NaN if either is NaN, and +0 is greater than -0.
fn fmax<T: Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() {
        quiet(if x.is_nan() { x } else { y })
    } else if x > y || (x == y && !x.is_sign_negative()) {
        x
    } else {
        y
    }
}

fn pmin<T: Float>(x: T, y: T) -> T {
    if y < x { y } else { x }
}

fn pmax<T: Float>(x: T, y: T) -> T {
    if x < y { y } else { x }
}

const F32_SIGNS: u128 = 0x8000_0000_8000_0000_8000_0000_8000_0000;
const F64_SIGNS: u128 = 0x8000_0000_0000_0000_8000_0000_0000_0000;

// ---- Memory helpers (the caller performs the access) ----

pub fn v128_load8x8_s(bits: u64) -> u128 {
    i16x8_extend_low_i8x16_s(bits.into())
}
pub fn v128_load8x8_u(bits: u64) -> u128 {
    i16x8_extend_low_i8x16_u(bits.into())
}
pub fn v128_load16x4_s(bits: u64) -> u128 {
    i32x4_extend_low_i16x8_s(bits.into())
}
pub fn v128_load16x4_u(bits: u64) -> u128 {
    i32x4_extend_low_i16x8_u(bits.into())
}
pub fn v128_load32x2_s(bits: u64) -> u128 {
    i64x2_extend_low_i32x4_s(bits.into())
}
pub fn v128_load32x2_u(bits: u64) -> u128 {
    i64x2_extend_low_i32x4_u(bits.into())
}
pub fn v128_load8_splat(x: u8) -> u128 {
    splat(x)
}
pub fn v128_load16_splat(x: u16) -> u128 {
    splat(x)
}
pub fn v128_load32_splat(x: u32) -> u128 {
    splat(x)
}
pub fn v128_load64_splat(x: u64) -> u128 {
    splat(x)
}
pub fn v128_load32_zero(x: u32) -> u128 {
    x.into()
}
pub fn v128_load64_zero(x: u64) -> u128 {
    x.into()
}
/// `a` with lane `lane` of width `width_bits` (8, 16, 32 or 64) set to the low bits of `x`.
pub fn replace_lane_bits(a: u128, width_bits: u32, lane: u8, x: u64) -> u128 {
    set_bits(a, width_bits.clamp(1, 64), lane, x.into())
}
/// Lane `lane` of width `width_bits` (8, 16, 32 or 64) of `a`, zero-extended.
pub fn extract_lane_bits(a: u128, width_bits: u32, lane: u8) -> u64 {
    get_bits(a, width_bits.clamp(1, 64), lane) as u64
}

// ---- Shuffles, splats and lanes ----

pub fn i8x16_shuffle(a: u128, b: u128, lanes: [u8; 16]) -> u128 {
    pack(lanes.map(|i| {
        if i % 32 < 16 {
            get_lane::<u8>(a, i)
        } else {
            get_lane::<u8>(b, i - 16)
        }
    }))
}
pub fn i8x16_swizzle(a: u128, s: u128) -> u128 {
    map(s, |i: u8| if i < 16 { get_lane::<u8>(a, i) } else { 0 })
}
// Integer splats multiply the lane by a number with a one in every lane's lowest bit.
#[inline(never)]
pub fn i8x16_splat(x: i32) -> u128 {
    u128::from(x as u8) * swar::ones(8)
}
#[inline(never)]
pub fn i16x8_splat(x: i32) -> u128 {
    u128::from(x as u16) * swar::ones(16)
}
#[inline(never)]
pub fn i32x4_splat(x: i32) -> u128 {
    u128::from(x as u32) * swar::ones(32)
}
#[inline(never)]
pub fn i64x2_splat(x: i64) -> u128 {
    u128::from(x as u64) * swar::ones(64)
}
pub fn f32x4_splat(x: f32) -> u128 {
    splat(x)
}
pub fn f64x2_splat(x: f64) -> u128 {
    splat(x)
}
pub fn i8x16_extract_lane_s(a: u128, lane: u8) -> i32 {
    get_lane::<i8>(a, lane).into()
}
pub fn i8x16_extract_lane_u(a: u128, lane: u8) -> i32 {
    get_lane::<u8>(a, lane).into()
}
pub fn i16x8_extract_lane_s(a: u128, lane: u8) -> i32 {
    get_lane::<i16>(a, lane).into()
}
pub fn i16x8_extract_lane_u(a: u128, lane: u8) -> i32 {
    get_lane::<u16>(a, lane).into()
}
pub fn i32x4_extract_lane(a: u128, lane: u8) -> i32 {
    get_lane(a, lane)
}
pub fn i64x2_extract_lane(a: u128, lane: u8) -> i64 {
    get_lane(a, lane)
}
pub fn f32x4_extract_lane(a: u128, lane: u8) -> f32 {
    get_lane(a, lane)
}
pub fn f64x2_extract_lane(a: u128, lane: u8) -> f64 {
    get_lane(a, lane)
}
pub fn i8x16_replace_lane(a: u128, lane: u8, x: i32) -> u128 {
    with_lane(a, lane, x as u8)
}
pub fn i16x8_replace_lane(a: u128, lane: u8, x: i32) -> u128 {
    with_lane(a, lane, x as u16)
}
pub fn i32x4_replace_lane(a: u128, lane: u8, x: i32) -> u128 {
    with_lane(a, lane, x)
}
pub fn i64x2_replace_lane(a: u128, lane: u8, x: i64) -> u128 {
    with_lane(a, lane, x)
}
pub fn f32x4_replace_lane(a: u128, lane: u8, x: f32) -> u128 {
    with_lane(a, lane, x)
}
pub fn f64x2_replace_lane(a: u128, lane: u8, x: f64) -> u128 {
    with_lane(a, lane, x)
}

// ---- Comparisons ----

#[inline(never)]
pub fn i8x16_eq(a: u128, b: u128) -> u128 {
    swar::eq8(a, b)
}
pub fn i8x16_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, u8::ne)
}
pub fn i8x16_lt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i8::lt)
}
pub fn i8x16_lt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u8::lt)
}
pub fn i8x16_gt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i8::gt)
}
pub fn i8x16_gt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u8::gt)
}
pub fn i8x16_le_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i8::le)
}
pub fn i8x16_le_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u8::le)
}
pub fn i8x16_ge_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i8::ge)
}
pub fn i8x16_ge_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u8::ge)
}
pub fn i16x8_eq(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::eq)
}
pub fn i16x8_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::ne)
}
pub fn i16x8_lt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i16::lt)
}
pub fn i16x8_lt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::lt)
}
pub fn i16x8_gt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i16::gt)
}
pub fn i16x8_gt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::gt)
}
pub fn i16x8_le_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i16::le)
}
pub fn i16x8_le_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::le)
}
pub fn i16x8_ge_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i16::ge)
}
pub fn i16x8_ge_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u16::ge)
}
pub fn i32x4_eq(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::eq)
}
pub fn i32x4_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::ne)
}
pub fn i32x4_lt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i32::lt)
}
pub fn i32x4_lt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::lt)
}
pub fn i32x4_gt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i32::gt)
}
pub fn i32x4_gt_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::gt)
}
pub fn i32x4_le_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i32::le)
}
pub fn i32x4_le_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::le)
}
pub fn i32x4_ge_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i32::ge)
}
pub fn i32x4_ge_u(a: u128, b: u128) -> u128 {
    cmp(a, b, u32::ge)
}
pub fn i64x2_eq(a: u128, b: u128) -> u128 {
    cmp(a, b, u64::eq)
}
pub fn i64x2_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, u64::ne)
}
pub fn i64x2_lt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i64::lt)
}
pub fn i64x2_gt_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i64::gt)
}
pub fn i64x2_le_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i64::le)
}
pub fn i64x2_ge_s(a: u128, b: u128) -> u128 {
    cmp(a, b, i64::ge)
}
pub fn f32x4_eq(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::eq)
}
pub fn f32x4_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::ne)
}
pub fn f32x4_lt(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::lt)
}
pub fn f32x4_gt(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::gt)
}
pub fn f32x4_le(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::le)
}
pub fn f32x4_ge(a: u128, b: u128) -> u128 {
    cmp(a, b, f32::ge)
}
pub fn f64x2_eq(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::eq)
}
pub fn f64x2_ne(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::ne)
}
pub fn f64x2_lt(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::lt)
}
pub fn f64x2_gt(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::gt)
}
pub fn f64x2_le(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::le)
}
pub fn f64x2_ge(a: u128, b: u128) -> u128 {
    cmp(a, b, f64::ge)
}

// ---- Whole-vector bitwise operations ----

pub fn v128_not(a: u128) -> u128 {
    !a
}
pub fn v128_and(a: u128, b: u128) -> u128 {
    a & b
}
pub fn v128_and_not(a: u128, b: u128) -> u128 {
    a & !b
}
pub fn v128_or(a: u128, b: u128) -> u128 {
    a | b
}
pub fn v128_xor(a: u128, b: u128) -> u128 {
    a ^ b
}
/// Bits of `a` where `c` is set, bits of `b` elsewhere.
pub fn v128_bitselect(a: u128, b: u128, c: u128) -> u128 {
    (a & c) | (b & !c)
}
pub fn v128_any_true(a: u128) -> i32 {
    i32::from(a != 0)
}

// ---- i8x16 ----

pub fn i8x16_abs(a: u128) -> u128 {
    map(a, i8::wrapping_abs)
}
pub fn i8x16_neg(a: u128) -> u128 {
    map(a, i8::wrapping_neg)
}
pub fn i8x16_popcnt(a: u128) -> u128 {
    map(a, |x: u8| x.count_ones() as u8)
}
pub fn i8x16_all_true(a: u128) -> i32 {
    all_true::<u8>(a)
}
pub fn i8x16_bitmask(a: u128) -> i32 {
    bitmask::<u8>(a)
}
pub fn i8x16_narrow_i16x8_s(a: u128, b: u128) -> u128 {
    narrow(a, b, |x: i16| x.clamp(i8::MIN.into(), i8::MAX.into()) as i8)
}
pub fn i8x16_narrow_i16x8_u(a: u128, b: u128) -> u128 {
    narrow(a, b, |x: i16| x.clamp(0, u8::MAX.into()) as u8)
}
pub fn i8x16_shl(a: u128, s: i32) -> u128 {
    map(a, |x: u8| x.wrapping_shl(s as u32))
}
pub fn i8x16_shr_s(a: u128, s: i32) -> u128 {
    map(a, |x: i8| x.wrapping_shr(s as u32))
}
pub fn i8x16_shr_u(a: u128, s: i32) -> u128 {
    map(a, |x: u8| x.wrapping_shr(s as u32))
}
#[inline(never)]
pub fn i8x16_add(a: u128, b: u128) -> u128 {
    swar::add(a, b, 8)
}
pub fn i8x16_add_sat_s(a: u128, b: u128) -> u128 {
    zip(a, b, i8::saturating_add)
}
pub fn i8x16_add_sat_u(a: u128, b: u128) -> u128 {
    zip(a, b, u8::saturating_add)
}
#[inline(never)]
pub fn i8x16_sub(a: u128, b: u128) -> u128 {
    swar::sub(a, b, 8)
}
pub fn i8x16_sub_sat_s(a: u128, b: u128) -> u128 {
    zip(a, b, i8::saturating_sub)
}
pub fn i8x16_sub_sat_u(a: u128, b: u128) -> u128 {
    zip(a, b, u8::saturating_sub)
}
pub fn i8x16_min_s(a: u128, b: u128) -> u128 {
    zip(a, b, i8::min)
}
pub fn i8x16_min_u(a: u128, b: u128) -> u128 {
    zip(a, b, u8::min)
}
pub fn i8x16_max_s(a: u128, b: u128) -> u128 {
    zip(a, b, i8::max)
}
pub fn i8x16_max_u(a: u128, b: u128) -> u128 {
    zip(a, b, u8::max)
}
pub fn i8x16_avgr_u(a: u128, b: u128) -> u128 {
    zip(a, b, |x: u8, y: u8| {
        ((u16::from(x) + u16::from(y) + 1) >> 1) as u8
    })
}

// ---- i16x8 ----

#[inline(never)]
pub fn i16x8_ext_add_pairwise_i8x16_s(a: u128) -> u128 {
    swar::ext_add_pairwise_s(a, 16)
}
pub fn i16x8_ext_add_pairwise_i8x16_u(a: u128) -> u128 {
    ext_add_pairwise::<u8, u16>(a)
}
pub fn i16x8_abs(a: u128) -> u128 {
    map(a, i16::wrapping_abs)
}
pub fn i16x8_neg(a: u128) -> u128 {
    map(a, i16::wrapping_neg)
}
/// Q15 fixed-point multiplication, rounded and saturated.
pub fn i16x8_q15_mulr_sat_s(a: u128, b: u128) -> u128 {
    zip(a, b, |x: i16, y: i16| {
        ((i32::from(x) * i32::from(y) + 0x4000) >> 15).clamp(i16::MIN.into(), i16::MAX.into())
            as i16
    })
}
pub fn i16x8_all_true(a: u128) -> i32 {
    all_true::<u16>(a)
}
pub fn i16x8_bitmask(a: u128) -> i32 {
    bitmask::<u16>(a)
}
pub fn i16x8_narrow_i32x4_s(a: u128, b: u128) -> u128 {
    narrow(a, b, |x: i32| {
        x.clamp(i16::MIN.into(), i16::MAX.into()) as i16
    })
}
pub fn i16x8_narrow_i32x4_u(a: u128, b: u128) -> u128 {
    narrow(a, b, |x: i32| x.clamp(0, u16::MAX.into()) as u16)
}
pub fn i16x8_extend_low_i8x16_s(a: u128) -> u128 {
    extend::<i8, i16>(a, false)
}
pub fn i16x8_extend_high_i8x16_s(a: u128) -> u128 {
    extend::<i8, i16>(a, true)
}
pub fn i16x8_extend_low_i8x16_u(a: u128) -> u128 {
    extend::<u8, u16>(a, false)
}
pub fn i16x8_extend_high_i8x16_u(a: u128) -> u128 {
    extend::<u8, u16>(a, true)
}
pub fn i16x8_shl(a: u128, s: i32) -> u128 {
    map(a, |x: u16| x.wrapping_shl(s as u32))
}
pub fn i16x8_shr_s(a: u128, s: i32) -> u128 {
    map(a, |x: i16| x.wrapping_shr(s as u32))
}
pub fn i16x8_shr_u(a: u128, s: i32) -> u128 {
    map(a, |x: u16| x.wrapping_shr(s as u32))
}
#[inline(never)]
pub fn i16x8_add(a: u128, b: u128) -> u128 {
    swar::add(a, b, 16)
}
pub fn i16x8_add_sat_s(a: u128, b: u128) -> u128 {
    zip(a, b, i16::saturating_add)
}
pub fn i16x8_add_sat_u(a: u128, b: u128) -> u128 {
    zip(a, b, u16::saturating_add)
}
#[inline(never)]
pub fn i16x8_sub(a: u128, b: u128) -> u128 {
    swar::sub(a, b, 16)
}
pub fn i16x8_sub_sat_s(a: u128, b: u128) -> u128 {
    zip(a, b, i16::saturating_sub)
}
pub fn i16x8_sub_sat_u(a: u128, b: u128) -> u128 {
    zip(a, b, u16::saturating_sub)
}
pub fn i16x8_mul(a: u128, b: u128) -> u128 {
    zip(a, b, u16::wrapping_mul)
}
pub fn i16x8_min_s(a: u128, b: u128) -> u128 {
    zip(a, b, i16::min)
}
pub fn i16x8_min_u(a: u128, b: u128) -> u128 {
    zip(a, b, u16::min)
}
pub fn i16x8_max_s(a: u128, b: u128) -> u128 {
    zip(a, b, i16::max)
}
pub fn i16x8_max_u(a: u128, b: u128) -> u128 {
    zip(a, b, u16::max)
}
pub fn i16x8_avgr_u(a: u128, b: u128) -> u128 {
    zip(a, b, |x: u16, y: u16| {
        ((u32::from(x) + u32::from(y) + 1) >> 1) as u16
    })
}
pub fn i16x8_ext_mul_low_i8x16_s(a: u128, b: u128) -> u128 {
    ext_mul::<i8, i16>(a, b, false)
}
pub fn i16x8_ext_mul_high_i8x16_s(a: u128, b: u128) -> u128 {
    ext_mul::<i8, i16>(a, b, true)
}
pub fn i16x8_ext_mul_low_i8x16_u(a: u128, b: u128) -> u128 {
    ext_mul::<u8, u16>(a, b, false)
}
pub fn i16x8_ext_mul_high_i8x16_u(a: u128, b: u128) -> u128 {
    ext_mul::<u8, u16>(a, b, true)
}

// ---- i32x4 ----

#[inline(never)]
pub fn i32x4_ext_add_pairwise_i16x8_s(a: u128) -> u128 {
    swar::ext_add_pairwise_s(a, 32)
}
pub fn i32x4_ext_add_pairwise_i16x8_u(a: u128) -> u128 {
    ext_add_pairwise::<u16, u32>(a)
}
pub fn i32x4_abs(a: u128) -> u128 {
    map(a, i32::wrapping_abs)
}
pub fn i32x4_neg(a: u128) -> u128 {
    map(a, i32::wrapping_neg)
}
pub fn i32x4_all_true(a: u128) -> i32 {
    all_true::<u32>(a)
}
pub fn i32x4_bitmask(a: u128) -> i32 {
    bitmask::<u32>(a)
}
pub fn i32x4_extend_low_i16x8_s(a: u128) -> u128 {
    extend::<i16, i32>(a, false)
}
pub fn i32x4_extend_high_i16x8_s(a: u128) -> u128 {
    extend::<i16, i32>(a, true)
}
pub fn i32x4_extend_low_i16x8_u(a: u128) -> u128 {
    extend::<u16, u32>(a, false)
}
pub fn i32x4_extend_high_i16x8_u(a: u128) -> u128 {
    extend::<u16, u32>(a, true)
}
pub fn i32x4_shl(a: u128, s: i32) -> u128 {
    map(a, |x: u32| x.wrapping_shl(s as u32))
}
pub fn i32x4_shr_s(a: u128, s: i32) -> u128 {
    map(a, |x: i32| x.wrapping_shr(s as u32))
}
pub fn i32x4_shr_u(a: u128, s: i32) -> u128 {
    map(a, |x: u32| x.wrapping_shr(s as u32))
}
#[inline(never)]
pub fn i32x4_add(a: u128, b: u128) -> u128 {
    swar::add(a, b, 32)
}
#[inline(never)]
pub fn i32x4_sub(a: u128, b: u128) -> u128 {
    swar::sub(a, b, 32)
}
pub fn i32x4_mul(a: u128, b: u128) -> u128 {
    zip(a, b, u32::wrapping_mul)
}
pub fn i32x4_min_s(a: u128, b: u128) -> u128 {
    zip(a, b, i32::min)
}
pub fn i32x4_min_u(a: u128, b: u128) -> u128 {
    zip(a, b, u32::min)
}
pub fn i32x4_max_s(a: u128, b: u128) -> u128 {
    zip(a, b, i32::max)
}
pub fn i32x4_max_u(a: u128, b: u128) -> u128 {
    zip(a, b, u32::max)
}
/// Sums of adjacent pairs of the signed 16-bit products (wrapping).
pub fn i32x4_dot_i16x8_s(a: u128, b: u128) -> u128 {
    let products = lanes::<i16>(a)
        .zip(lanes::<i16>(b))
        .map(|(x, y)| i32::from(x) * i32::from(y));
    pack(pairs(products, i32::wrapping_add))
}
pub fn i32x4_ext_mul_low_i16x8_s(a: u128, b: u128) -> u128 {
    ext_mul::<i16, i32>(a, b, false)
}
pub fn i32x4_ext_mul_high_i16x8_s(a: u128, b: u128) -> u128 {
    ext_mul::<i16, i32>(a, b, true)
}
pub fn i32x4_ext_mul_low_i16x8_u(a: u128, b: u128) -> u128 {
    ext_mul::<u16, u32>(a, b, false)
}
pub fn i32x4_ext_mul_high_i16x8_u(a: u128, b: u128) -> u128 {
    ext_mul::<u16, u32>(a, b, true)
}

// ---- i64x2 ----

pub fn i64x2_abs(a: u128) -> u128 {
    map(a, i64::wrapping_abs)
}
pub fn i64x2_neg(a: u128) -> u128 {
    map(a, i64::wrapping_neg)
}
pub fn i64x2_all_true(a: u128) -> i32 {
    all_true::<u64>(a)
}
pub fn i64x2_bitmask(a: u128) -> i32 {
    bitmask::<u64>(a)
}
pub fn i64x2_extend_low_i32x4_s(a: u128) -> u128 {
    extend::<i32, i64>(a, false)
}
pub fn i64x2_extend_high_i32x4_s(a: u128) -> u128 {
    extend::<i32, i64>(a, true)
}
pub fn i64x2_extend_low_i32x4_u(a: u128) -> u128 {
    extend::<u32, u64>(a, false)
}
pub fn i64x2_extend_high_i32x4_u(a: u128) -> u128 {
    extend::<u32, u64>(a, true)
}
pub fn i64x2_shl(a: u128, s: i32) -> u128 {
    map(a, |x: u64| x.wrapping_shl(s as u32))
}
pub fn i64x2_shr_s(a: u128, s: i32) -> u128 {
    map(a, |x: i64| x.wrapping_shr(s as u32))
}
pub fn i64x2_shr_u(a: u128, s: i32) -> u128 {
    map(a, |x: u64| x.wrapping_shr(s as u32))
}
#[inline(never)]
pub fn i64x2_add(a: u128, b: u128) -> u128 {
    swar::add(a, b, 64)
}
#[inline(never)]
pub fn i64x2_sub(a: u128, b: u128) -> u128 {
    swar::sub(a, b, 64)
}
pub fn i64x2_mul(a: u128, b: u128) -> u128 {
    zip(a, b, u64::wrapping_mul)
}
pub fn i64x2_ext_mul_low_i32x4_s(a: u128, b: u128) -> u128 {
    ext_mul::<i32, i64>(a, b, false)
}
pub fn i64x2_ext_mul_high_i32x4_s(a: u128, b: u128) -> u128 {
    ext_mul::<i32, i64>(a, b, true)
}
pub fn i64x2_ext_mul_low_i32x4_u(a: u128, b: u128) -> u128 {
    ext_mul::<u32, u64>(a, b, false)
}
pub fn i64x2_ext_mul_high_i32x4_u(a: u128, b: u128) -> u128 {
    ext_mul::<u32, u64>(a, b, true)
}

// ---- f32x4 ----

pub fn f32x4_ceil(a: u128) -> u128 {
    fmap(a, f32::ceil)
}
pub fn f32x4_floor(a: u128) -> u128 {
    fmap(a, f32::floor)
}
pub fn f32x4_trunc(a: u128) -> u128 {
    fmap(a, f32::trunc)
}
pub fn f32x4_nearest(a: u128) -> u128 {
    fmap(a, f32::round_ties_even)
}
pub fn f32x4_abs(a: u128) -> u128 {
    a & !F32_SIGNS
}
pub fn f32x4_neg(a: u128) -> u128 {
    a ^ F32_SIGNS
}
pub fn f32x4_sqrt(a: u128) -> u128 {
    fmap(a, f32::sqrt)
}
pub fn f32x4_add(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f32, y| x + y)
}
pub fn f32x4_sub(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f32, y| x - y)
}
pub fn f32x4_mul(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f32, y| x * y)
}
pub fn f32x4_div(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f32, y| x / y)
}
pub fn f32x4_min(a: u128, b: u128) -> u128 {
    zip(a, b, fmin::<f32>)
}
pub fn f32x4_max(a: u128, b: u128) -> u128 {
    zip(a, b, fmax::<f32>)
}
pub fn f32x4_p_min(a: u128, b: u128) -> u128 {
    zip(a, b, pmin::<f32>)
}
pub fn f32x4_p_max(a: u128, b: u128) -> u128 {
    zip(a, b, pmax::<f32>)
}

// ---- f64x2 ----

pub fn f64x2_ceil(a: u128) -> u128 {
    fmap(a, f64::ceil)
}
pub fn f64x2_floor(a: u128) -> u128 {
    fmap(a, f64::floor)
}
pub fn f64x2_trunc(a: u128) -> u128 {
    fmap(a, f64::trunc)
}
pub fn f64x2_nearest(a: u128) -> u128 {
    fmap(a, f64::round_ties_even)
}
pub fn f64x2_abs(a: u128) -> u128 {
    a & !F64_SIGNS
}
pub fn f64x2_neg(a: u128) -> u128 {
    a ^ F64_SIGNS
}
pub fn f64x2_sqrt(a: u128) -> u128 {
    fmap(a, f64::sqrt)
}
pub fn f64x2_add(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f64, y| x + y)
}
pub fn f64x2_sub(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f64, y| x - y)
}
pub fn f64x2_mul(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f64, y| x * y)
}
pub fn f64x2_div(a: u128, b: u128) -> u128 {
    fzip(a, b, |x: f64, y| x / y)
}
pub fn f64x2_min(a: u128, b: u128) -> u128 {
    zip(a, b, fmin::<f64>)
}
pub fn f64x2_max(a: u128, b: u128) -> u128 {
    zip(a, b, fmax::<f64>)
}
pub fn f64x2_p_min(a: u128, b: u128) -> u128 {
    zip(a, b, pmin::<f64>)
}
pub fn f64x2_p_max(a: u128, b: u128) -> u128 {
    zip(a, b, pmax::<f64>)
}

// ---- Conversions (Rust's float-to-int `as` saturates and maps NaN to 0) ----

pub fn i32x4_trunc_sat_f32x4_s(a: u128) -> u128 {
    map(a, |x: f32| x as i32)
}
pub fn i32x4_trunc_sat_f32x4_u(a: u128) -> u128 {
    map(a, |x: f32| x as u32)
}
pub fn f32x4_convert_i32x4_s(a: u128) -> u128 {
    map(a, |x: i32| x as f32)
}
pub fn f32x4_convert_i32x4_u(a: u128) -> u128 {
    map(a, |x: u32| x as f32)
}
pub fn i32x4_trunc_sat_f64x2_s_zero(a: u128) -> u128 {
    pack(lanes(a).map(|x: f64| x as i32))
}
pub fn i32x4_trunc_sat_f64x2_u_zero(a: u128) -> u128 {
    pack(lanes(a).map(|x: f64| x as u32))
}
pub fn f64x2_convert_low_i32x4_s(a: u128) -> u128 {
    pack(lanes::<i32>(a).map(f64::from))
}
pub fn f64x2_convert_low_i32x4_u(a: u128) -> u128 {
    pack(lanes::<u32>(a).map(f64::from))
}
pub fn f32x4_demote_f64x2_zero(a: u128) -> u128 {
    pack(lanes(a).map(|x: f64| quiet(x as f32)))
}
pub fn f64x2_promote_low_f32x4(a: u128) -> u128 {
    pack(lanes(a).map(|x: f32| quiet(f64::from(x))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each whole-register form equals the lane-by-lane code, on edge lanes and pseudo-random vectors.
    #[test]
    fn swar_agrees() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = vec![
            0,
            u128::MAX,
            0x8080_8080_8080_8080_8080_8080_8080_8080,
            0x7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f,
        ];
        values.extend(
            std::iter::repeat_with(|| (u128::from(next()) << 64) | u128::from(next())).take(500),
        );
        // Lanes drawn from a few edge values, so equal and extreme lanes occur often.
        values.extend(
            std::iter::repeat_with(|| {
                pack((0..16).map(|_| [0u8, 1, 0x7f, 0x80, 0xff][(next() % 5) as usize]))
            })
            .take(500),
        );
        for (i, &a) in values.iter().enumerate() {
            let b = values[(i * 7 + 3) % values.len()];
            assert_eq!(i8x16_eq(a, b), cmp(a, b, u8::eq), "eq {a:x} {b:x}");
            assert_eq!(i8x16_eq(a, a), cmp(a, a, u8::eq));
            assert_eq!(i8x16_add(a, b), zip(a, b, u8::wrapping_add));
            assert_eq!(i8x16_sub(a, b), zip(a, b, u8::wrapping_sub));
            assert_eq!(i16x8_add(a, b), zip(a, b, u16::wrapping_add));
            assert_eq!(i16x8_sub(a, b), zip(a, b, u16::wrapping_sub));
            assert_eq!(i32x4_add(a, b), zip(a, b, u32::wrapping_add));
            assert_eq!(i32x4_sub(a, b), zip(a, b, u32::wrapping_sub));
            assert_eq!(i64x2_add(a, b), zip(a, b, u64::wrapping_add));
            assert_eq!(i64x2_sub(a, b), zip(a, b, u64::wrapping_sub));
            assert_eq!(
                i16x8_ext_add_pairwise_i8x16_s(a),
                ext_add_pairwise::<i8, i16>(a),
                "{a:x}"
            );
            assert_eq!(
                i32x4_ext_add_pairwise_i16x8_s(a),
                ext_add_pairwise::<i16, i32>(a),
                "{a:x}"
            );
            let x = a as u64;
            assert_eq!(i8x16_splat(x as i32), splat(x as u8));
            assert_eq!(i16x8_splat(x as i32), splat(x as u16));
            assert_eq!(i32x4_splat(x as i32), splat(x as i32));
            assert_eq!(i64x2_splat(x as i64), splat(x as i64));
        }
    }

    fn v<T: Lane>(l: impl IntoIterator<Item = T>) -> u128 {
        pack(l)
    }
    fn l<T: Lane>(a: u128) -> Vec<T> {
        lanes(a).collect()
    }
    fn f32_bits(a: u128) -> Vec<u32> {
        l(a)
    }

    #[test]
    fn float_min_max_nan_and_signed_zero() {
        let a = v([-0.0f32, 0.0, f32::NAN, 1.0]);
        let b = v([0.0f32, -0.0, 1.0, f32::NAN]);
        let min = f32_bits(f32x4_min(a, b));
        let max = f32_bits(f32x4_max(a, b));
        assert_eq!(&min[..2], &[0x8000_0000, 0x8000_0000]);
        assert_eq!(&max[..2], &[0, 0]);
        for x in [min[2], min[3], max[2], max[3]] {
            assert!(f32::from_bits(x).is_nan());
        }
        // A signalling NaN comes out quiet.
        let s = f64x2_min(v([f64::from_bits(0x7ff0_0000_0000_0001), 0.0]), 0);
        assert_eq!(l::<u64>(s)[0], 0x7ff8_0000_0000_0001);
    }

    #[test]
    fn pseudo_min_max_pass_operands_through() {
        let snan = f32::from_bits(0x7fa0_0001);
        let a = v([-0.0f32, 0.0, snan, 1.0]);
        let b = v([0.0f32, -0.0, 1.0, snan]);
        assert_eq!(
            f32_bits(f32x4_p_min(a, b)),
            [0x8000_0000, 0, 0x7fa0_0001, 1.0f32.to_bits()]
        );
        assert_eq!(
            f32_bits(f32x4_p_max(a, b)),
            [0x8000_0000, 0, 0x7fa0_0001, 1.0f32.to_bits()]
        );
        assert_eq!(
            l::<f64>(f64x2_p_min(v([2.0, 1.0]), v([1.0, 2.0]))),
            [1.0, 1.0]
        );
        assert_eq!(
            l::<f64>(f64x2_p_max(v([2.0, 1.0]), v([1.0, 2.0]))),
            [2.0, 2.0]
        );
    }

    #[test]
    fn sign_ops_are_bitwise() {
        let a = v([f32::from_bits(0x7fa0_0001), -1.0, 0.0, -0.0]);
        assert_eq!(
            f32_bits(f32x4_neg(a)),
            [0xffa0_0001, 0x3f80_0000, 0x8000_0000, 0]
        );
        assert_eq!(
            f32_bits(f32x4_abs(f32x4_neg(a))),
            [0x7fa0_0001, 0x3f80_0000, 0, 0]
        );
        assert_eq!(
            l::<u64>(f64x2_neg(v([f64::NAN, 1.0])))[0],
            0xfff8_0000_0000_0000
        );
    }

    #[test]
    fn nearest_rounds_ties_to_even() {
        let r = f32x4_nearest(v([0.5f32, 1.5, 2.5, -0.5]));
        assert_eq!(
            f32_bits(r),
            [0, 2.0f32.to_bits(), 2.0f32.to_bits(), 0x8000_0000]
        );
        assert_eq!(l::<f64>(f64x2_nearest(v([-3.5f64, 4.5]))), [-4.0, 4.0]);
    }

    #[test]
    fn saturating_arithmetic() {
        let a = v([127i8, -128, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = v([1i8, -1, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&l::<i8>(i8x16_add_sat_s(a, b))[..4], [127, -128, 127, -128]);
        assert_eq!(&l::<i8>(i8x16_sub_sat_s(a, b))[..4], [126, -127, 0, 0]);
        assert_eq!(&l::<u8>(i8x16_add_sat_u(a, b))[..2], [128, 255]);
        assert_eq!(&l::<u8>(i8x16_sub_sat_u(b, a))[..2], [0, 127]);
        assert_eq!(
            l::<i16>(i16x8_sub_sat_s(i16x8_splat(-32768), i16x8_splat(1)))[0],
            -32768
        );
        assert_eq!(
            l::<u16>(i16x8_add_sat_u(i16x8_splat(-1), i16x8_splat(1)))[0],
            65535
        );
    }

    #[test]
    fn narrow_saturates_signed_input() {
        let a = v([300i16, -300, 127, -128, 128, -129, 255, -1]);
        let b = i16x8_splat(7);
        let s = l::<i8>(i8x16_narrow_i16x8_s(a, b));
        assert_eq!(&s[..8], [127, -128, 127, -128, 127, -128, 127, -1]);
        assert_eq!(&s[8..], [7; 8]);
        assert_eq!(
            &l::<u8>(i8x16_narrow_i16x8_u(a, b))[..8],
            [255, 0, 127, 0, 128, 0, 255, 0]
        );
        let w = v([70000i32, -70000, 65535, -1]);
        assert_eq!(
            &l::<i16>(i16x8_narrow_i32x4_s(w, 0))[..4],
            [32767, -32768, 32767, -1]
        );
        assert_eq!(
            &l::<u16>(i16x8_narrow_i32x4_u(w, 0))[..4],
            [65535, 0, 65535, 0]
        );
    }

    #[test]
    fn q15mulr_rounds_and_saturates() {
        let a = v([-32768i16, 16384, 1, -1, 0x4000, -0x4000, 3, 32767]);
        let b = v([-32768i16, 16384, 16384, 16384, -1, -1, -16384, 32767]);
        assert_eq!(
            l::<i16>(i16x8_q15_mulr_sat_s(a, b)),
            [32767, 8192, 1, 0, 0, 1, -1, 32766]
        );
    }

    #[test]
    fn shifts_take_count_modulo_lane_width() {
        let a = i8x16_splat(-127);
        assert_eq!(i8x16_shl(a, 9), i8x16_shl(a, 1));
        assert_eq!(l::<i8>(i8x16_shr_s(a, 8))[0], -127);
        assert_eq!(l::<i8>(i8x16_shr_s(a, 1))[0], -64);
        assert_eq!(l::<u8>(i8x16_shr_u(a, -1))[0], 1);
        assert_eq!(i16x8_shl(a, 16), a);
        assert_eq!(i32x4_shr_s(a, 32), a);
        assert_eq!(i32x4_shr_u(a, -1), i32x4_shr_u(a, 31));
        assert_eq!(i64x2_shl(a, 64), a);
        assert_eq!(l::<i64>(i64x2_shr_s(i64x2_splat(i64::MIN), 63)), [-1, -1]);
    }

    #[test]
    fn shuffle_and_swizzle() {
        let a = v(0u8..16);
        let b = v(16u8..32);
        let lanes: [u8; 16] = std::array::from_fn(|i| 31 - i as u8);
        assert_eq!(
            l::<u8>(i8x16_shuffle(a, b, lanes)),
            (16u8..32).rev().collect::<Vec<_>>()
        );
        assert_eq!(i8x16_shuffle(a, b, std::array::from_fn(|i| i as u8)), a);
        let s = v([0u8, 15, 16, 255, 3, 128, 17, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            &l::<u8>(i8x16_swizzle(b, s))[..8],
            [16, 31, 0, 0, 19, 0, 0, 17]
        );
    }

    #[test]
    fn bitmask_all_true_any_true() {
        let a = v([-1i8, 0, 1, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -5]);
        assert_eq!(i8x16_bitmask(a), 0b1000_0000_0000_1001);
        assert_eq!(
            i16x8_bitmask(v([-1i16, 1, -2, 2, 0, 0, 0, i16::MIN])),
            0b1000_0101
        );
        assert_eq!(i32x4_bitmask(v([1i32, -1, 0, -1])), 0b1010);
        assert_eq!(i64x2_bitmask(v([-1i64, 0])), 1);
        assert_eq!(i8x16_all_true(a), 0);
        assert_eq!(i8x16_all_true(i8x16_splat(0x100 + 1)), 1);
        assert_eq!(i16x8_all_true(i8x16_splat(0x100)), 0);
        assert_eq!(i16x8_all_true(v([0x100u16; 8])), 1);
        assert_eq!(i64x2_all_true(1 << 64 | 1), 1);
        assert_eq!(v128_any_true(1 << 127), 1);
        assert_eq!(v128_any_true(0), 0);
    }

    #[test]
    fn trunc_sat_and_conversions() {
        let a = v([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 3e9]);
        assert_eq!(
            l::<i32>(i32x4_trunc_sat_f32x4_s(a)),
            [0, i32::MAX, i32::MIN, i32::MAX]
        );
        let u = v([-1.5f32, 4.5e9, -f32::NAN, 2.9]);
        assert_eq!(l::<u32>(i32x4_trunc_sat_f32x4_u(u)), [0, u32::MAX, 0, 2]);
        assert_eq!(
            l::<i32>(i32x4_trunc_sat_f64x2_s_zero(v([-3e10f64, -2.9]))),
            [i32::MIN, -2, 0, 0]
        );
        assert_eq!(
            l::<u32>(i32x4_trunc_sat_f64x2_u_zero(v([f64::NAN, 5e9]))),
            [0, u32::MAX, 0, 0]
        );
        assert_eq!(
            l::<f32>(f32x4_convert_i32x4_u(v([u32::MAX, 16_777_217, 1, 0]))),
            [4294967296.0, 16777216.0, 1.0, 0.0]
        );
        assert_eq!(
            l::<f64>(f64x2_convert_low_i32x4_s(v([-1i32, 2, 9, 9]))),
            [-1.0, 2.0]
        );
        assert_eq!(
            l::<f64>(f64x2_convert_low_i32x4_u(v([-1i32, 2, 9, 9]))),
            [4294967295.0, 2.0]
        );
        assert_eq!(
            l::<f32>(f32x4_demote_f64x2_zero(v([1e300f64, 0.5]))),
            [f32::INFINITY, 0.5, 0.0, 0.0]
        );
        assert_eq!(
            l::<f64>(f64x2_promote_low_f32x4(v([0.5f32, -2.0, 9.0, 9.0]))),
            [0.5, -2.0]
        );
        assert!(l::<f32>(f32x4_demote_f64x2_zero(v([f64::NAN, 0.0])))[0].is_nan());
    }

    #[test]
    fn integer_lane_arithmetic() {
        assert_eq!(l::<i8>(i8x16_abs(i8x16_splat(-128)))[0], -128);
        assert_eq!(l::<i64>(i64x2_abs(v([i64::MIN, -3]))), [i64::MIN, 3]);
        assert_eq!(
            l::<u8>(i8x16_avgr_u(v([255u8; 16]), v([255u8; 16])))[0],
            255
        );
        assert_eq!(l::<u16>(i16x8_avgr_u(v([0u16; 8]), v([1u16; 8])))[0], 1);
        assert_eq!(
            l::<u8>(i8x16_popcnt(v([
                0xffu8, 0x81, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ])))[..4],
            [8, 2, 0, 3]
        );
        assert_eq!(
            l::<i32>(i32x4_dot_i16x8_s(i16x8_splat(-32768), i16x8_splat(-32768)))[0],
            i32::MIN
        );
        assert_eq!(
            l::<i32>(i32x4_dot_i16x8_s(
                v([1i16, 2, 3, 4, 0, 0, 0, 0]),
                v([5i16, 6, 7, -8, 0, 0, 0, 0])
            ))[..2],
            [17, -11]
        );
        let bytes = v([
            -1i8, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -128, -128,
        ]);
        assert_eq!(
            l::<i16>(i16x8_ext_add_pairwise_i8x16_s(bytes)),
            [-3, 7, 11, 15, 19, 23, 27, -256]
        );
        assert_eq!(
            l::<u16>(i16x8_ext_add_pairwise_i8x16_u(bytes))[..2],
            [509, 7]
        );
        assert_eq!(l::<i16>(i16x8_ext_mul_high_i8x16_s(bytes, bytes))[7], 16384);
        assert_eq!(l::<u16>(i16x8_ext_mul_low_i8x16_u(bytes, bytes))[0], 65025);
        assert_eq!(
            l::<i64>(i64x2_ext_mul_low_i32x4_s(
                v([-1i32, i32::MIN, 0, 0]),
                v([i32::MIN; 4])
            )),
            [1 << 31, 1 << 62]
        );
        assert_eq!(
            l::<i16>(i16x8_extend_high_i8x16_s(bytes))[6..],
            [-128, -128]
        );
        assert_eq!(l::<u16>(i16x8_extend_low_i8x16_u(bytes))[..2], [255, 254]);
        assert_eq!(
            l::<i64>(i64x2_mul(v([i64::MAX, 3]), v([2i64, -3]))),
            [-2, -9]
        );
    }

    #[test]
    fn comparisons_produce_lane_masks() {
        let a = v([-1i32, 1, 5, i32::MIN]);
        let b = v([1i32, -1, 5, 0]);
        assert_eq!(l::<i32>(i32x4_lt_s(a, b)), [-1, 0, 0, -1]);
        assert_eq!(l::<i32>(i32x4_lt_u(a, b)), [0, -1, 0, 0]);
        assert_eq!(l::<i32>(i32x4_ge_u(a, b)), [-1, 0, -1, -1]);
        let f = v([f32::NAN, 1.0, -0.0, 2.0]);
        let g = v([f32::NAN, 2.0, 0.0, 1.0]);
        assert_eq!(l::<i32>(f32x4_eq(f, g)), [0, 0, -1, 0]);
        assert_eq!(l::<i32>(f32x4_ne(f, g)), [-1, -1, 0, -1]);
        assert_eq!(l::<i32>(f32x4_le(f, g)), [0, -1, -1, 0]);
        assert_eq!(l::<i64>(i64x2_gt_s(v([-1i64, 2]), v([-2i64, 2]))), [-1, 0]);
    }

    #[test]
    fn bitwise_ops() {
        let (a, b, c) = (0xff00u128, 0x0ff0u128, 0x3c3cu128);
        assert_eq!(v128_bitselect(a, b, c), (a & c) | (b & !c));
        assert_eq!(v128_and_not(a, b), 0xf000);
        assert_eq!(v128_not(0), u128::MAX);
    }

    #[test]
    fn lanes_splats_and_memory_helpers() {
        let a = v(0u8..16);
        assert_eq!(i8x16_extract_lane_s(i8x16_splat(-3), 15), -3);
        assert_eq!(i8x16_extract_lane_u(i8x16_splat(-3), 15), 253);
        assert_eq!(i16x8_extract_lane_s(i16x8_splat(0x18000), 3), -32768);
        assert_eq!(i16x8_extract_lane_u(i16x8_splat(-1), 3), 65535);
        assert_eq!(i32x4_extract_lane(a, 1), 0x0706_0504);
        assert_eq!(i64x2_extract_lane(a, 1), 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(f32x4_extract_lane(f32x4_splat(1.5), 3), 1.5);
        assert_eq!(f64x2_extract_lane(f64x2_replace_lane(0, 1, -2.5), 1), -2.5);
        assert_eq!(i8x16_replace_lane(0, 15, 0x1ff), 0xff << 120);
        assert_eq!(i16x8_replace_lane(u128::MAX, 0, 0), u128::MAX << 16);
        assert_eq!(i32x4_replace_lane(0, 4, 7), 7, "lane index is masked");
        assert_eq!(i64x2_replace_lane(0, 1, -1), u128::MAX << 64);
        assert_eq!(
            l::<f32>(f32x4_replace_lane(0, 2, 4.0)),
            [0.0, 0.0, 4.0, 0.0]
        );
        assert_eq!(i64x2_splat(-1), u128::MAX);
        assert_eq!(extract_lane_bits(a, 16, 7), 0x0f0e);
        assert_eq!(extract_lane_bits(a, 64, 0), 0x0706_0504_0302_0100);
        assert_eq!(replace_lane_bits(a, 8, 0, 0xabcd), (a & !0xff) | 0xcd);
        assert_eq!(replace_lane_bits(0, 32, 3, u64::MAX), 0xffff_ffff << 96);
        assert_eq!(l::<i16>(v128_load8x8_s(0x80ff_0001))[..4], [1, 0, -1, -128]);
        assert_eq!(l::<u16>(v128_load8x8_u(0x80ff_0001))[..4], [1, 0, 255, 128]);
        assert_eq!(l::<i32>(v128_load16x4_s(0xffff)), [-1, 0, 0, 0]);
        assert_eq!(l::<u32>(v128_load16x4_u(0xffff)), [65535, 0, 0, 0]);
        assert_eq!(l::<i64>(v128_load32x2_s(u64::MAX)), [-1, -1]);
        assert_eq!(
            l::<u64>(v128_load32x2_u(u64::MAX)),
            [u64::from(u32::MAX); 2]
        );
        assert_eq!(
            v128_load8_splat(0xab),
            0xabab_abab_abab_abab_abab_abab_abab_abab
        );
        assert_eq!(v128_load16_splat(0xabcd), i16x8_splat(0xabcd));
        assert_eq!(v128_load32_splat(7), i32x4_splat(7));
        assert_eq!(v128_load64_splat(u64::MAX), u128::MAX);
        assert_eq!(v128_load32_zero(u32::MAX), 0xffff_ffff);
        assert_eq!(v128_load64_zero(u64::MAX), u128::from(u64::MAX));
    }
}
