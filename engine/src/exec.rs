//! The interpreter: runs the internal code over explicit frames and a value stack of 64-bit cells, never recursing on the host stack.

use std::sync::Arc;

use crate::error::{Resource, TrapKind};
use crate::ir::{Imm, Op, StackValue};
use crate::module::CmpFunc;
use crate::module::FuncBody;
use crate::num;
use crate::sanitizer::{AllocFn, MAX_FRAMES, RawFrame, Sanitizer, request_size};
use crate::simd;
use crate::store::{
    CMP_LOG_LIMIT, CmpValues, Frame, FuncInst, HostCall, InstanceData, MemoryInst, PAGE_SIZE,
    Status, Store, TableInst, host_call_on_stack, memory_bytes, resolve_frames, table_elements,
};
use crate::translate::{CMP_I32, CMP_I32_EQZ, CMP_I64, CMP_I64_EQZ, RETURN_TARGET};
use crate::types::ValType;

/// Why `execute` stopped without trapping.
pub(crate) enum Exit {
    Finished,
    OutOfFuel,
    HostCall(HostCall),
    /// A `Break` op (a debugger's breakpoint, patched into a copy of the code) is next; it was not executed.
    Breakpoint,
    /// A write touched the watched bytes of a memory; the writing op has completed.
    Watch,
}

/// What a call of a store function turned into.
enum Called {
    /// A Wasm frame was pushed.
    Wasm,
    /// A host function must answer; its arguments were popped.
    Host(HostCall),
}

/// Calls store function `f` whose arguments are the top cells of the stack (ending at `sp`).
#[inline]
fn call_func(
    funcs: &[FuncInst],
    instances: &[InstanceData],
    stack: &mut Vec<u64>,
    frames: &mut Vec<Frame>,
    sp: &mut usize,
    f: u32,
    (max_depth, max_stack): (usize, usize),
) -> Result<Called, TrapKind> {
    match &funcs[f as usize] {
        FuncInst::Wasm {
            instance,
            func_index,
            ..
        } => {
            let body_index = func_index
                - instances[*instance as usize]
                    .module
                    .inner
                    .num_imported_funcs;
            push_frame(
                instances,
                stack,
                frames,
                sp,
                f,
                *instance,
                body_index,
                (max_depth, max_stack),
            )?;
            Ok(Called::Wasm)
        }
        FuncInst::Host { host_id, ty, .. } => {
            // The arguments stay on the stack until the host answers, so a snapshot taken meanwhile keeps them.
            let call = host_call_on_stack(stack, *sp, f, *host_id, ty)
                .expect("the validator counted the arguments");
            Ok(Called::Host(call))
        }
    }
}

/// Pushes a frame running body `body_index` of `instance`'s module as store function `f`, whose arguments are the
/// top cells of the stack (ending at `sp`).
#[allow(clippy::too_many_arguments)]
#[inline]
fn push_frame(
    instances: &[InstanceData],
    stack: &mut Vec<u64>,
    frames: &mut Vec<Frame>,
    sp: &mut usize,
    f: u32,
    instance: u32,
    body_index: u32,
    (max_depth, max_stack): (usize, usize),
) -> Result<(), TrapKind> {
    let body = &instances[instance as usize].module.inner.bodies[body_index as usize];
    if frames.len() >= max_depth {
        return Err(TrapKind::StackExhausted);
    }
    let fp = *sp - body.param_cells as usize;
    let needed = fp + body.max_cells as usize;
    if needed > max_stack {
        return Err(TrapKind::StackExhausted);
    }
    if needed > stack.len() {
        stack.resize(needed.max(stack.len() * 2).min(max_stack), 0);
    }
    let locals_end = fp + body.local_cells as usize;
    stack[*sp..locals_end].fill(0);
    *sp = locals_end;
    frames.push(Frame {
        func: f,
        instance,
        body: body_index,
        pc: 0,
        fp: fp as u32,
    });
    Ok(())
}

/// Starts the outermost call of a run.
pub(crate) fn enter(store: &mut Store, f: u32) -> Result<Option<HostCall>, TrapKind> {
    let config = store.engine.config();
    let (max_depth, max_stack) = (
        config.max_call_depth as usize,
        config.max_value_stack as usize,
    );
    let exec = &mut store.exec;
    match call_func(
        &store.funcs,
        &store.instances,
        &mut exec.stack,
        &mut exec.frames,
        &mut exec.sp,
        f,
        (max_depth, max_stack),
    )? {
        Called::Wasm => Ok(None),
        Called::Host(call) => {
            exec.status = Status::InHost(f);
            Ok(Some(call))
        }
    }
}

/// Effective address of an access of `len` bytes at `addr + offset`, if it lies inside `mem`.
#[inline(always)]
fn effective(mem: &MemoryInst, addr: u64, offset: u64, len: usize) -> Option<usize> {
    effective_in(mem.data.len(), addr, offset, len)
}

/// Effective address of an access of `len` bytes at `addr + offset`, if it lies inside a memory of `size` bytes.
#[inline(always)]
fn effective_in(size: usize, addr: u64, offset: u64, len: usize) -> Option<usize> {
    let ea = addr.checked_add(offset)?;
    let end = ea.checked_add(len as u64)?;
    if end > size as u64 {
        return None;
    }
    Some(ea as usize)
}

/// Whether `cell` cannot go into table `t`: a function reference (index + 1) past the store's `funcs`. Valid code
/// never makes one; only a damaged snapshot's operand stack can hold it.
#[inline(always)]
fn bad_ref(t: &TableInst, cell: u64, funcs: usize) -> bool {
    t.ty.element == ValType::FuncRef && cell > funcs as u64
}

/// Checks that `[start, start + len)` lies inside a region of `size` units.
#[inline(always)]
fn in_bounds(start: u64, len: u64, size: usize) -> Option<usize> {
    let end = start.checked_add(len)?;
    (end <= size as u64).then_some(start as usize)
}

/// Reads a `T` from the stack cells starting at `at`, without a bounds check.
///
/// # Safety
/// `at` points at `T::CELLS` initialized cells of the value stack.
#[inline(always)]
unsafe fn read<T: StackValue>(at: *const u64) -> T {
    // SAFETY: the caller guarantees that the cells exist.
    T::read(unsafe { std::slice::from_raw_parts(at, T::CELLS) }, 0)
}

/// Writes `v` to the stack cells starting at `at`, without a bounds check.
///
/// # Safety
/// `at` points at `T::CELLS` cells of the value stack, which nothing else borrows.
#[inline(always)]
unsafe fn write<T: StackValue>(at: *mut u64, v: T) {
    // SAFETY: the caller guarantees that the cells exist and are not borrowed.
    v.write(unsafe { std::slice::from_raw_parts_mut(at, T::CELLS) }, 0);
}

// The semantics of every op, generated from the flattened op list (`for_each_op_flat!`) and written once for both
// dispatchers: `$sink!` receives each op as `Name { fields } => { body }` and makes it a match arm (`run`) or a
// handler (`handlers`, with the `handler-dispatch` feature). The body comes from the op's group, form and the
// group's semantics (`op_body!`) and reaches the interpreter's registers and state only through the macros every
// dispatcher defines for itself: `get!`, `set!`, `pop!`, `push!`, `local!` (a local's cell), `top!` (the cell `n`
// below the top), `shrink!` (drops cells), `copy_cells!`, `goto!`, `charge!`, `trap!`, `load0!`, `store0!`,
// `mem!`, `mem_mut!`, `san_check!`, `watch_stop!`, `op_after!`, `do_return!` and, for the special ops it does not
// share, `unshared_special!`.
macro_rules! semantics {
    ($sink:ident;
        ops {
            $($name:ident { $($f:ident : $t:ty),* } $group:ident $form:ident $family:ident
                flow $flow:tt access $access:tt twins $tracked:tt $san:tt wat $wat:tt sem [$($sem:tt)*];)*
        }
        simple $simple:tt
        rules $rules:tt
    ) => {
        $sink! {
            $($name { $($f),* } => { op_body!($group $form $name [$($f)*] $($sem)*) })*
        }
    };
}

// The body of one op, from its group, form, name, fields and the group's semantics (see `for_each_op_flat!`).
macro_rules! op_body {
    (special Plain $name:ident [$($f:ident)*]) => {
        shared_special!($name $($f)*)
    };
    (unary Plain $name:ident [] ($a:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a) -> $r = $f;
        let a = pop!($a);
        push!($r, f(a));
    }};
    (ternary Plain $name:ident [] ($a:ty, $b:ty, $c:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a, $b, $c) -> $r = $f;
        let c = pop!($c);
        let b = pop!($b);
        let a = pop!($a);
        push!($r, f(a, b, c));
    }};
    (unary_trap Plain $name:ident [] ($a:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a) -> Result<$r, TrapKind> = $f;
        let a = pop!($a);
        match f(a) {
            Ok(r) => push!($r, r),
            Err(kind) => trap!(kind),
        }
    }};
    (binary_trap Plain $name:ident [] ($a:ty, $b:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a, $b) -> Result<$r, TrapKind> = $f;
        let b = pop!($b);
        let a = pop!($a);
        match f(a, b) {
            Ok(r) => push!($r, r),
            Err(kind) => trap!(kind),
        }
    }};
    (lane_extract Plain $name:ident [$lane:ident] ($a:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a, u8) -> $r = $f;
        let a = pop!($a);
        push!($r, f(a, $lane));
    }};
    (lane_replace Plain $name:ident [$lane:ident] ($a:ty, $b:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a, u8, $b) -> $r = $f;
        let b = pop!($b);
        let a = pop!($a);
        push!($r, f(a, $lane, b));
    }};
    // Binary operations: where the operands come from and where the result goes, by form.
    (binary Plain $name:ident [] $($s:tt)*) => { binary_op!([stack] [push] $($s)*) };
    (fused Plain $name:ident [] $($s:tt)*) => { binary_op!([stack] [push] $($s)*) };
    (fused L $name:ident [$b:ident] $($s:tt)*) => { binary_op!([stack, local $b] [push] $($s)*) };
    (fused C $name:ident [$c:ident] $($s:tt)*) => { binary_op!([stack, imm $c] [push] $($s)*) };
    (fused LL $name:ident [$a:ident $b:ident] $($s:tt)*) => { binary_op!([local $a, local $b] [push] $($s)*) };
    (fused LC $name:ident [$a:ident $c:ident] $($s:tt)*) => { binary_op!([local $a, imm $c] [push] $($s)*) };
    (fused To $name:ident [$dst:ident] $($s:tt)*) => { binary_op!([stack] [to $dst] $($s)*) };
    (fused LTo $name:ident [$b:ident $dst:ident] $($s:tt)*) => { binary_op!([stack, local $b] [to $dst] $($s)*) };
    (fused CTo $name:ident [$c:ident $dst:ident] $($s:tt)*) => { binary_op!([stack, imm $c] [to $dst] $($s)*) };
    (fused LLTo $name:ident [$a:ident $b:ident $dst:ident] $($s:tt)*) => {
        binary_op!([local $a, local $b] [to $dst] $($s)*)
    };
    (fused LCTo $name:ident [$a:ident $c:ident $dst:ident] $($s:tt)*) => {
        binary_op!([local $a, imm $c] [to $dst] $($s)*)
    };
    (fused Tee $name:ident [$dst:ident] $($s:tt)*) => { binary_op!([stack] [tee $dst] $($s)*) };
    (fused LTee $name:ident [$b:ident $dst:ident] $($s:tt)*) => { binary_op!([stack, local $b] [tee $dst] $($s)*) };
    (fused CTee $name:ident [$c:ident $dst:ident] $($s:tt)*) => { binary_op!([stack, imm $c] [tee $dst] $($s)*) };
    (fused LLTee $name:ident [$a:ident $b:ident $dst:ident] $($s:tt)*) => {
        binary_op!([local $a, local $b] [tee $dst] $($s)*)
    };
    (fused LCTee $name:ident [$a:ident $c:ident $dst:ident] $($s:tt)*) => {
        binary_op!([local $a, imm $c] [tee $dst] $($s)*)
    };
    (fused J $name:ident [$target:ident] $($s:tt)*) => { binary_op!([stack] [jump $target] $($s)*) };
    (fused JL $name:ident [$b:ident $target:ident] $($s:tt)*) => {
        binary_op!([stack, local $b] [jump $target] $($s)*)
    };
    (fused JC $name:ident [$c:ident $target:ident] $($s:tt)*) => {
        binary_op!([stack, imm $c] [jump $target] $($s)*)
    };
    (fused JLL $name:ident [$a:ident $b:ident $target:ident] $($s:tt)*) => {
        binary_op!([local $a, local $b] [jump $target] $($s)*)
    };
    (fused JLC $name:ident [$a:ident $c:ident $target:ident] $($s:tt)*) => {
        binary_op!([local $a, imm $c] [jump $target] $($s)*)
    };
    (load $form:ident $name:ident [$($field:ident)*] $n:literal -> $r:ty = $f:expr) => {{
        let f: fn([u8; $n]) -> $r = $f;
        let bytes: [u8; $n] = load_bytes!($form [$($field)*] $n);
        push!($r, f(bytes));
    }};
    (store $form:ident $name:ident [$($field:ident)*] ($t:ty) -> $n:literal = $f:expr) => {{
        let f: fn($t) -> [u8; $n] = $f;
        store_bytes!($form [$($field)*] $t, $n, f)
    }};
    // A lane op pops the vector above the address.
    (load_lane $form:ident $name:ident [$mem:ident $lane:ident $offset:ident] $n:literal) => {{
        let v = pop!(u128);
        let bytes: [u8; $n] = load_bytes!($form [$mem $offset] $n);
        let mut raw = [0u8; 8];
        raw[..$n].copy_from_slice(&bytes);
        push!(u128, simd::replace_lane_bits(v, $n * 8, $lane, u64::from_le_bytes(raw)));
    }};
    (store_lane $form:ident $name:ident [$mem:ident $lane:ident $offset:ident] $n:literal) => {{
        let f = |v: u128| -> [u8; $n] {
            let lane = simd::extract_lane_bits(v, $n * 8, $lane).to_le_bytes();
            <[u8; $n]>::try_from(&lane[..$n]).expect("a lane has at most 8 bytes")
        };
        store_bytes!($form [$mem $offset] u128, $n, f)
    }};
}

// A binary operation `($a, $b) -> $r = $f` with its operands taken as `[$($in)*]` says (`binary_operands!`) and
// its result put where `[$($out)*]` says: pushed, written to a local (`to`), both (`tee`), or tested by a jump.
macro_rules! binary_op {
    ([$($in:tt)*] [$($out:tt)*] ($a:ty, $b:ty) -> $r:ty = $f:expr) => {{
        let f: fn($a, $b) -> $r = $f;
        let (a, b): ($a, $b) = binary_operands!($a, $b; $($in)*);
        let r = f(a, b);
        binary_result!($r, r; $($out)*)
    }};
}
macro_rules! binary_operands {
    ($a:ty, $b:ty; stack) => {{
        let b = pop!($b);
        let a = pop!($a);
        (a, b)
    }};
    ($a:ty, $b:ty; stack, local $lb:ident) => {{
        let a = pop!($a);
        (a, get!($b, local!($lb)))
    }};
    ($a:ty, $b:ty; stack, imm $c:ident) => {{
        let a = pop!($a);
        (a, <$b as Imm>::from_imm($c))
    }};
    ($a:ty, $b:ty; local $la:ident, local $lb:ident) => {
        (get!($a, local!($la)), get!($b, local!($lb)))
    };
    ($a:ty, $b:ty; local $la:ident, imm $c:ident) => {
        (get!($a, local!($la)), <$b as Imm>::from_imm($c))
    };
}
macro_rules! binary_result {
    ($r:ty, $v:ident; push) => {
        push!($r, $v)
    };
    ($r:ty, $v:ident; to $dst:ident) => {
        set!($r, local!($dst), $v)
    };
    ($r:ty, $v:ident; tee $dst:ident) => {{
        set!($r, local!($dst), $v);
        push!($r, $v);
    }};
    ($r:ty, $v:ident; jump $target:ident) => {{
        if $v != 0 {
            goto!($target as usize);
        }
        charge!();
    }};
}

// The `$n` bytes a load of form `$form` reads: at the address popped plus `offset` of memory `mem` (`Plain`; `San`
// checked by the sanitizer), or of memory 0 at local `a` (`L`), the i32 sum of local `a` and `c` (`LC`), of locals
// `a` and `b` (`LL`), of the popped address and `c` (`C`), plus `offset`. The sums wrap like `i32.add`, and only
// then is the offset added.
macro_rules! load_bytes {
    (Plain [$mem:ident $offset:ident] $n:literal) => {{
        let addr = pop!(u64);
        if $mem == 0 {
            load0!(addr, $offset, $n)
        } else {
            let m = mem!($mem);
            let Some(ea) = effective(m, addr, $offset, $n) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            <[u8; $n]>::try_from(&m.data[ea..ea + $n]).expect("range has the array's length")
        }
    }};
    (San [$mem:ident $offset:ident] $n:literal) => {{
        let addr = pop!(u64);
        let m = mem!($mem);
        let Some(ea) = effective(m, addr, $offset, $n) else {
            trap!(TrapKind::MemoryOutOfBounds)
        };
        san_check!($mem, ea, $n, false);
        <[u8; $n]>::try_from(&m.data[ea..ea + $n]).expect("range has the array's length")
    }};
    (L [$a:ident $offset:ident] $n:literal) => {{
        let addr = get!(u64, local!($a));
        load0!(addr, u64::from($offset), $n)
    }};
    (LC [$a:ident $c:ident $offset:ident] $n:literal) => {{
        let addr = u64::from(get!(u32, local!($a)).wrapping_add($c));
        load0!(addr, u64::from($offset), $n)
    }};
    (LL [$a:ident $b:ident $offset:ident] $n:literal) => {{
        let addr = u64::from(get!(u32, local!($a)).wrapping_add(get!(u32, local!($b))));
        load0!(addr, u64::from($offset), $n)
    }};
    (C [$c:ident $offset:ident] $n:literal) => {{
        let addr = u64::from(pop!(u32).wrapping_add($c));
        load0!(addr, u64::from($offset), $n)
    }};
}

// Stores `$f` of the value (of type `$t`) as a store of form `$form` does: the value popped above the address
// (`Plain`, `Tracked` marking dirty pages, `San` checked by the sanitizer) or read from local `v` above the popped
// address (`V`) or with the address in local `a` (`LV`), in memory 0 (`VTracked`, `LVTracked` marking pages).
macro_rules! store_bytes {
    (Plain [$mem:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = pop!($t);
        let addr = pop!(u64);
        store!($mem, addr, $offset, $n, $f(v), false);
    }};
    (Tracked [$mem:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = pop!($t);
        let addr = pop!(u64);
        store!($mem, addr, $offset, $n, $f(v), true);
    }};
    (San [$mem:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = pop!($t);
        let addr = pop!(u64);
        let m = mem_mut!($mem);
        let Some(ea) = effective(m, addr, $offset, $n) else {
            trap!(TrapKind::MemoryOutOfBounds)
        };
        san_check!($mem, ea, $n, true);
        m.data[ea..ea + $n].copy_from_slice(&$f(v));
        if m.mark_dirty(ea, $n) {
            watch_stop!();
        }
    }};
    (V [$v:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = get!($t, local!($v));
        let addr = pop!(u64);
        store!(0, addr, u64::from($offset), $n, $f(v), false);
    }};
    (LV [$a:ident $v:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = get!($t, local!($v));
        let addr = get!(u64, local!($a));
        store!(0, addr, u64::from($offset), $n, $f(v), false);
    }};
    (VTracked [$v:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = get!($t, local!($v));
        let addr = pop!(u64);
        store!(0, addr, u64::from($offset), $n, $f(v), true);
    }};
    (LVTracked [$a:ident $v:ident $offset:ident] $t:ty, $n:literal, $f:ident) => {{
        let v = get!($t, local!($v));
        let addr = get!(u64, local!($a));
        store!(0, addr, u64::from($offset), $n, $f(v), true);
    }};
}

// The `special` ops whose semantics both dispatchers share; the others are each dispatcher's own.
macro_rules! shared_special {
    (Jump $target:ident) => {{
        goto!($target as usize);
        charge!();
    }};
    (JumpIfNez $target:ident) => {{
        if pop!(u32) != 0 {
            goto!($target as usize);
        }
        charge!();
    }};
    (JumpIfEqz $target:ident) => {{
        if pop!(u32) == 0 {
            goto!($target as usize);
        }
        charge!();
    }};
    (Br $target:ident $drop:ident $keep:ident) => {{
        branch!($target, $drop, $keep);
        charge!();
    }};
    (BrIfNez $target:ident $drop:ident $keep:ident) => {{
        if pop!(u32) != 0 {
            branch!($target, $drop, $keep);
        }
        charge!();
    }};
    (Drop $cells:ident) => {
        shrink!($cells as usize)
    };
    (Select) => {{
        let c = pop!(u32);
        let b = pop!(u64);
        if c == 0 {
            set!(u64, top!(1), b);
        }
    }};
    (SelectV128) => {{
        let c = pop!(u32);
        let b = pop!(u128);
        if c == 0 {
            set!(u128, top!(2), b);
        }
    }};
    (LocalGet $index:ident) => {
        push!(u64, get!(u64, local!($index)))
    };
    (LocalSet $index:ident) => {{
        let v = pop!(u64);
        set!(u64, local!($index), v);
    }};
    (LocalTee $index:ident) => {
        set!(u64, local!($index), get!(u64, top!(1)))
    };
    (LocalGetV128 $index:ident) => {
        push!(u128, get!(u128, local!($index)))
    };
    (LocalSetV128 $index:ident) => {{
        let v = pop!(u128);
        set!(u128, local!($index), v);
    }};
    (LocalTeeV128 $index:ident) => {
        set!(u128, local!($index), get!(u128, top!(2)))
    };
    (LocalCopy $src:ident $dst:ident) => {
        set!(u64, local!($dst), get!(u64, local!($src)))
    };
    (LocalSetConst32 $dst:ident $value:ident) => {
        set!(u32, local!($dst), $value)
    };
    (LocalSetConst64 $dst:ident $value:ident) => {
        set!(u64, local!($dst), $value)
    };
    (LocalCopy2 $src:ident $dst:ident $src2:ident $dst2:ident) => {{
        set!(u64, local!($dst), get!(u64, local!($src)));
        set!(u64, local!($dst2), get!(u64, local!($src2)));
    }};
    (SelectTo $dst:ident) => {{
        let c = pop!(u32);
        let b = pop!(u64);
        let a = pop!(u64);
        set!(u64, local!($dst), if c != 0 { a } else { b });
    }};
    (SelectTee $dst:ident) => {{
        let c = pop!(u32);
        let b = pop!(u64);
        let r = if c != 0 { get!(u64, top!(1)) } else { b };
        set!(u64, top!(1), r);
        set!(u64, local!($dst), r);
    }};
    (I64ExtendI32UL $a:ident) => {
        push!(u64, u64::from(get!(u32, local!($a))))
    };
    (F32AddLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f32, u32, 4, |a, b| a + b)
    };
    (F32SubLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f32, u32, 4, |a, b| a - b)
    };
    (F32MulLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f32, u32, 4, |a, b| a * b)
    };
    (F64AddLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f64, u64, 8, |a, b| a + b)
    };
    (F64SubLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f64, u64, 8, |a, b| a - b)
    };
    (F64MulLoadL $a:ident $offset:ident) => {
        load_operand!($a, $offset, f64, u64, 8, |a, b| a * b)
    };
    (JumpIfLocalNez $index:ident $target:ident) => {{
        if get!(u32, local!($index)) != 0 {
            goto!($target as usize);
        }
        charge!();
    }};
    (JumpIfLocalEqz $index:ident $target:ident) => {{
        if get!(u32, local!($index)) == 0 {
            goto!($target as usize);
        }
        charge!();
    }};
    (I32AddJumpIfNe $local:ident $step:ident $target:ident) => {{
        let other = pop!(u32);
        let at = local!($local);
        let v = get!(u32, at).wrapping_add($step as u32);
        set!(u32, at, v);
        if other != v {
            goto!($target as usize);
        }
        charge!();
    }};
    (I32AddJumpIfNeC $local:ident $step:ident $limit:ident $target:ident) => {{
        let at = local!($local);
        let v = get!(u32, at).wrapping_add($step as u32);
        set!(u32, at, v);
        if v != $limit {
            goto!($target as usize);
        }
        charge!();
    }};
    (I32AddJumpIfNeL $local:ident $step:ident $other:ident $target:ident) => {{
        let at = local!($local);
        let v = get!(u32, at).wrapping_add($step as u32);
        set!(u32, at, v);
        // `other` is not `local` (the translator checks): reading it after the write reads its old value.
        if get!(u32, local!($other)) != v {
            goto!($target as usize);
        }
        charge!();
    }};
    (Const32 $value:ident) => {
        push!(u32, $value)
    };
    (Const64 $value:ident) => {
        push!(u64, $value)
    };
    (BrTable $len:ident) => {{
        let i = pop!(u32).min($len) as usize;
        let Op::BrTableEntry { target, drop, keep } = op_after!(i) else {
            unreachable!("br_table is followed by its entries")
        };
        if target == RETURN_TARGET {
            do_return!();
        } else {
            branch!(target, drop, keep);
        }
        charge!();
    }};
    (BrTableEntry $target:ident $drop:ident $keep:ident) => {{
        if $target == RETURN_TARGET {
            do_return!();
        } else {
            branch!($target, $drop, $keep);
        }
        charge!();
    }};
    ($other:ident $($f:ident)*) => {
        unshared_special!($other $($f)*)
    };
}

// Continues at op `target`, dropping `drop` cells below the `keep` cells on top.
macro_rules! branch {
    ($target:expr, $drop:expr, $keep:expr) => {{
        let (drop, keep) = ($drop as usize, $keep as usize);
        if drop != 0 {
            copy_cells!(top!(keep), top!(keep + drop), keep);
            shrink!(drop);
        }
        goto!($target as usize);
    }};
}

// Writes `bytes` (`$n` of them) at `addr + offset` of memory `mem`, trapping out of bounds; a tracking store
// also marks the pages dirty and pauses after a watched write.
macro_rules! store {
    ($mem:expr, $addr:expr, $offset:expr, $n:expr, $bytes:expr, $tracked:expr) => {{
        let (mem, addr, offset): (u32, u64, u64) = ($mem, $addr, $offset);
        if !$tracked && mem == 0 {
            store0!(addr, offset, $n, $bytes);
        } else {
            let m = mem_mut!(mem);
            let Some(ea) = effective(m, addr, offset, $n) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            m.data[ea..ea + $n].copy_from_slice(&$bytes);
            if $tracked && m.mark_dirty(ea, $n) {
                watch_stop!();
            }
        }
    }};
}

// A float operation whose second operand is loaded from memory 0 at the address in local `a` plus `offset`;
// the first is on the stack.
macro_rules! load_operand {
    ($a:expr, $offset:expr, $t:ty, $bits:ty, $bytes:literal, $f:expr) => {{
        let addr = get!(u64, local!($a));
        let bytes: [u8; $bytes] = load0!(addr, u64::from($offset), $bytes);
        let b = <$t>::from_bits(<$bits>::from_le_bytes(bytes));
        let f: fn($t, $t) -> $t = $f;
        let a = pop!($t);
        push!($t, f(a, b));
    }};
}

/// Runs the paused call until it finishes, traps, runs out of fuel or calls the host.
///
/// Fuel is one unit per op, exact at every pause, but the interpreter does not count op by op. The code is cut
/// into regions that end at ops that may transfer control (`FuncBody::rest`); entering a region at some op charges
/// every op from there to the region's end at once, and an early exit (a trap, a watched write, a breakpoint)
/// gives back what did not run. When the fuel left cannot pay for the rest of a region, the run goes on op by op
/// until the fuel is spent (`run::<true>`), and switches back once a region's rest fits again.
pub(crate) fn execute(store: &mut Store, fuel: &mut u64) -> Result<Exit, TrapKind> {
    // A paused call may stand in the middle of a region nobody paid for: start op by op, which hands over to
    // region charging at the first op whose region's rest the fuel covers (normally the first).
    let mut exact = true;
    loop {
        let exit = if exact {
            run::<true>(store, fuel)?
        } else {
            run::<false>(store, fuel)?
        };
        match exit {
            Some(exit) => return Ok(exit),
            None => exact = !exact,
        }
    }
}

/// The interpreter proper, charging fuel op by op (`EXACT`) or region by region. `Ok(None)`: switch modes; the
/// registers were saved into the frame.
#[allow(clippy::cognitive_complexity, clippy::too_many_lines)]
fn run<const EXACT: bool>(store: &mut Store, fuel: &mut u64) -> Result<Option<Exit>, TrapKind> {
    let config = store.engine.config();
    let (max_depth, max_stack) = (
        config.max_call_depth as usize,
        config.max_value_stack as usize,
    );
    let (max_memory_bytes, max_table_elements, trap_at_memory_limit) = (
        config.max_memory_bytes,
        config.max_table_elements,
        config.trap_at_memory_limit,
    );
    let bulk_fuel = |n: u64| config.bulk_fuel(n);
    let Store {
        funcs,
        instances,
        memories,
        tables,
        globals,
        elems,
        datas,
        exec,
        coverage,
        coverage_overflow,
        cmp_log,
        sanitizer,
        ..
    } = store;
    let funcs: &[FuncInst] = funcs;
    let instances: &[InstanceData] = instances;
    let saved_sp = &mut exec.sp;
    let status = &mut exec.status;
    let prepaid = &mut exec.prepaid;
    let stack = &mut exec.stack;
    // The value stack is addressed through raw pointers kept in registers: `base` (cell 0), `fp` (the frame's
    // first local) and `sp` (one past the top operand). `base` is taken again after every call, which may grow
    // (move) the stack; `Vec::as_mut_ptr` keeps earlier pointers valid as long as it does not.
    let mut base: *mut u64 = stack.as_mut_ptr();
    let frames = &mut exec.frames;

    let mut sp: *mut u64 = base.wrapping_add(*saved_sp);
    // Kept in a register; written back on every exit.
    let mut fuel_left = *fuel;
    let Some(frame) = frames.last().copied() else {
        return Ok(Some(Exit::Finished));
    };
    let mut inst_index = frame.instance;
    let mut inst: &InstanceData = &instances[inst_index as usize];
    let mut body: &FuncBody = &inst.module.inner.bodies[frame.body as usize];
    let mut code: &[Op] = &body.code;
    let mut rest: &[u32] = &body.rest;
    // The next op, as a pointer into `code`.
    let mut ip: *const Op = code.as_ptr().wrapping_add(frame.pc as usize);
    // Memory 0 of the running instance (the one nearly every access uses): its bytes' address and length, taken
    // again whenever either may change — when the running instance changes (`load_frame!`) and after
    // `memory.grow`; a host call leaves this function. `Vec::as_mut_ptr` keeps the address valid alongside the
    // other accesses to the same bytes as long as the memory does not grow.
    let mut mem0_ptr: *mut u8;
    let mut mem0_len: usize;
    macro_rules! load_mem0 {
        () => {{
            (mem0_ptr, mem0_len) = match inst.memories.first() {
                Some(&m) => {
                    let data = &mut memories[m as usize].data;
                    (data.as_mut_ptr(), data.len())
                }
                None => (std::ptr::null_mut(), 0),
            };
        }};
    }
    load_mem0!();
    let mut fp: *mut u64 = base.wrapping_add(frame.fp as usize);

    // The stack height: the index of the cell `sp` points at.
    macro_rules! sp_index {
        () => {
            (sp.addr() - base.addr()) / size_of::<u64>()
        };
    }
    // Moves `n` cells from `src` to `dst` (the ranges may overlap).
    macro_rules! copy_cells {
        ($src:expr, $dst:expr, $n:expr) => {{
            let (src, dst, n): (*mut u64, *mut u64, usize) = ($src, $dst, $n);
            // SAFETY: both ranges lie in the current frame (see `get!`): results and branch values move down
            // within the operand stack or to the frame base.
            unsafe { std::ptr::copy(src, dst, n) }
        }};
    }
    // The cell of local `i`.
    macro_rules! local {
        ($i:expr) => {
            fp.wrapping_add($i as usize)
        };
    }
    // The cell `n` below the top of the stack.
    macro_rules! top {
        ($n:expr) => {
            sp.wrapping_sub($n)
        };
    }
    // Drops the `n` cells on top of the stack.
    macro_rules! shrink {
        ($n:expr) => {
            sp = sp.wrapping_sub($n)
        };
    }
    // Op `i` after the next one: only `BrTable` reads past the next op, at most `len` ops on.
    macro_rules! op_after {
        ($i:expr) => {{
            let i: usize = $i;
            debug_assert!(
                pc!() + i < code.len(),
                "br_table entry past the end of the code"
            );
            // SAFETY: the translator emits `len + 1` entries right after a `BrTable { len }`.
            *unsafe { &*ip.wrapping_add(i) }
        }};
    }
    // The index of the next op in `code`.
    macro_rules! pc {
        () => {
            (ip.addr() - code.as_ptr().addr()) / size_of::<Op>()
        };
    }
    // Continues at op `target` of the current body.
    macro_rules! goto {
        ($target:expr) => {{
            let target: usize = $target;
            ip = code.as_ptr().wrapping_add(target);
        }};
    }
    // Stores the registers back into the frame: every exit goes through here.
    macro_rules! save {
        ($pc:expr) => {{
            if let Some(f) = frames.last_mut() {
                f.pc = $pc as u32;
            }
            *saved_sp = sp_index!();
            *fuel = fuel_left;
        }};
    }
    // The ops of the current region from `at` to its end.
    macro_rules! rest_at {
        ($at:expr) => {{
            let at: usize = $at;
            debug_assert!(at < rest.len(), "fuel region entry {at} past the end of the code");
            // SAFETY: `rest` has one entry per op of `code` (the translator builds both, and every frame's body
            // keeps them together) and `at` is the index of an op: `pc` or `pc - 1` under the same guarantees as
            // the op fetch below.
            *unsafe { rest.get_unchecked(at) }
        }};
    }
    // Control entered the code at `pc`: pay for the rest of its region, or go on op by op if the fuel cannot.
    macro_rules! charge {
        () => {{
            if !EXACT {
                let n = u64::from(rest_at!(pc!()));
                if fuel_left < n {
                    save!(pc!());
                    return Ok(None);
                }
                fuel_left -= n;
            }
        }};
    }
    // The op before `pc` ran and control leaves its region early: give back the fuel of the ops after it.
    macro_rules! refund_rest {
        () => {{
            if !EXACT {
                fuel_left += u64::from(rest_at!(pc!() - 1)) - 1;
            }
        }};
    }
    // A watched write completed: pause after the writing op.
    macro_rules! watch_stop {
        () => {{
            refund_rest!();
            save!(pc!());
            return Ok(Some(Exit::Watch));
        }};
    }
    // A bulk op (one that ends its region) writing `n` bytes or elements pays `bulk_fuel(n)` on top of its own
    // unit before it does any work, having popped `cells` operand cells. When the fuel left cannot pay it all,
    // what is left goes towards it (`prepaid`, so that the op is reached again on any budget and runs once paid
    // for) and the run pauses before the op with its operands back on the stack, exactly as if it had not begun.
    macro_rules! pay_bulk {
        ($n:expr, $cells:expr) => {{
            let owed = bulk_fuel($n).saturating_sub(*prepaid);
            if fuel_left < owed {
                // The op's own unit was paid and comes back: the op did not run.
                fuel_left += 1;
                *prepaid += fuel_left;
                fuel_left = 0;
                sp = sp.wrapping_add($cells);
                save!(pc!() - 1);
                return Ok(Some(Exit::OutOfFuel));
            }
            fuel_left -= owed;
            *prepaid = 0;
        }};
    }
    macro_rules! trap {
        ($kind:expr) => {{
            refund_rest!();
            save!(pc!() - 1);
            return Err($kind);
        }};
    }
    // Switches the registers to the innermost frame.
    macro_rules! load_frame {
        () => {{
            let f = frames
                .last()
                .copied()
                .expect("a frame was just pushed or remains");
            if f.instance != inst_index {
                // Memory 0 changes with the instance; within one instance only `memory.grow` changes it, and
                // that refreshes it where it runs.
                inst_index = f.instance;
                inst = &instances[inst_index as usize];
                load_mem0!();
            }
            body = &inst.module.inner.bodies[f.body as usize];
            code = &body.code;
            rest = &body.rest;
            ip = code.as_ptr().wrapping_add(f.pc as usize);
            fp = base.wrapping_add(f.fp as usize);
        }};
    }
    macro_rules! do_return {
        () => {{
            let keep = body.result_cells as usize;
            copy_cells!(sp.wrapping_sub(keep), fp, keep);
            sp = fp.wrapping_add(keep);
            frames.pop();
            if frames.is_empty() {
                *saved_sp = sp_index!();
                *fuel = fuel_left;
                return Ok(Some(Exit::Finished));
            }
            load_frame!();
        }};
    }
    // Stack accesses go unchecked. SAFETY, for every `get!`, `set!`, `pop!` and `push!`: the cells an op reads
    // or writes lie in its frame, below `fp + body.max_cells`: locals below `fp + local_cells`, operands below the
    // operand stack height the validator proved for that op, which the translator's `max_cells` bounds (with
    // `heights` recording it op by op). `stack.len()` is at least `fp + max_cells` for every frame: `call_func`
    // grows the stack before pushing a frame, and snapshot restore grows it to the largest `fp + max_cells` of
    // the frames it validated against `heights`.
    macro_rules! get {
        ($t:ty, $at:expr) => {{
            let at: *mut u64 = $at;
            debug_assert!(
                at >= base
                    && at.wrapping_add(<$t as StackValue>::CELLS) <= base.wrapping_add(stack.len()),
                "stack read outside the stack"
            );
            // SAFETY: see above.
            unsafe { read::<$t>(at) }
        }};
    }
    macro_rules! set {
        ($t:ty, $at:expr, $v:expr) => {{
            let (at, v): (*mut u64, $t) = ($at, $v);
            debug_assert!(
                at >= base
                    && at.wrapping_add(<$t as StackValue>::CELLS) <= base.wrapping_add(stack.len()),
                "stack write outside the stack"
            );
            // SAFETY: see above.
            unsafe { write::<$t>(at, v) }
        }};
    }
    macro_rules! pop {
        ($t:ty) => {{
            sp = sp.wrapping_sub(<$t as StackValue>::CELLS);
            get!($t, sp)
        }};
    }
    macro_rules! push {
        ($t:ty, $v:expr) => {{
            let v: $t = $v;
            set!($t, sp, v);
            sp = sp.wrapping_add(<$t as StackValue>::CELLS);
        }};
    }
    macro_rules! call {
        ($f:expr) => {{
            let f = $f;
            save!(pc!());
            // A copy, so that `sp` itself never has its address taken and stays in a register.
            let mut new_sp = sp_index!();
            let called = call_func(
                funcs,
                instances,
                stack,
                frames,
                &mut new_sp,
                f,
                (max_depth, max_stack),
            );
            base = stack.as_mut_ptr();
            sp = base.wrapping_add(new_sp);
            match called {
                Ok(Called::Wasm) => load_frame!(),
                Ok(Called::Host(call)) => {
                    *saved_sp = sp_index!();
                    *fuel = fuel_left;
                    *status = Status::InHost(f);
                    return Ok(Some(Exit::HostCall(call)));
                }
                Err(kind) => trap!(kind),
            }
        }};
    }
    // Calls store function `f`, body `body_index` of the running instance's module: no instance to switch, and
    // when the stack has room (it most often has) none of `call_func`'s look-ups; otherwise through `call!`,
    // which grows the stack or traps.
    macro_rules! call_local {
        ($f:expr, $body_index:expr) => {{
            let (f, body_index): (u32, u32) = ($f, $body_index);
            let callee = &inst.module.inner.bodies[body_index as usize];
            let sp_at = sp_index!();
            if frames.len() < max_depth
                && sp_at - (callee.param_cells as usize) + (callee.max_cells as usize) <= stack.len().min(max_stack)
            {
                if let Some(caller) = frames.last_mut() {
                    caller.pc = pc!() as u32;
                }
                let new_fp = sp.wrapping_sub(callee.param_cells as usize);
                let extra = (callee.local_cells - callee.param_cells) as usize;
                // SAFETY: the callee's frame, `max_cells` cells from `new_fp`, lies inside the stack (checked
                // just above); its declared locals start at `sp` and are zeroed.
                unsafe { std::ptr::write_bytes(sp, 0, extra) };
                frames.push(Frame {
                    func: f,
                    instance: inst_index,
                    body: body_index,
                    pc: 0,
                    fp: (sp_at - callee.param_cells as usize) as u32,
                });
                body = callee;
                code = &body.code;
                rest = &body.rest;
                ip = code.as_ptr();
                fp = new_fp;
                sp = sp.wrapping_add(extra);
            } else {
                call!(f)
            }
        }};
    }
    // Replaces the current frame by a call of `f`: its arguments move down to the frame base.
    macro_rules! tail_call {
        ($f:expr) => {{
            let f = $f;
            if let FuncInst::Wasm { .. } = funcs[f as usize] {
                let args = funcs[f as usize].ty().param_cells() as usize;
                copy_cells!(sp.wrapping_sub(args), fp, args);
                sp = fp.wrapping_add(args);
                let popped = frames.pop().expect("a frame is running");
                let mut new_sp = sp_index!();
                let called = call_func(funcs, instances, stack, frames, &mut new_sp, f, (max_depth, max_stack));
                base = stack.as_mut_ptr();
                sp = base.wrapping_add(new_sp);
                match called {
                    Ok(_) => load_frame!(),
                    Err(kind) => {
                        frames.push(popped);
                        trap!(kind)
                    }
                }
            } else {
                // A host function cannot replace a Wasm frame: call it; the translator placed a `Return` after this op.
                call!(f)
            }
        }};
    }
    macro_rules! mem {
        ($idx:expr) => {
            &memories[inst.memories[$idx as usize] as usize]
        };
    }
    macro_rules! mem_mut {
        ($idx:expr) => {
            &mut memories[inst.memories[$idx as usize] as usize]
        };
    }
    macro_rules! table_index {
        ($table:expr) => {
            inst.tables[$table as usize] as usize
        };
    }
    // Pops a call_indirect operand and resolves it to a store function of the expected type.
    macro_rules! indirect_target {
        ($type_index:expr, $table:expr) => {{
            let i = pop!(u64);
            let table = &tables[table_index!($table)];
            let Some(&cell) = usize::try_from(i).ok().and_then(|i| table.elems.get(i)) else {
                trap!(TrapKind::UndefinedElement)
            };
            if cell == 0 {
                trap!(TrapKind::IndirectCallToNull)
            }
            let f = (cell - 1) as u32;
            // `get`: a reference restored from a damaged snapshot may name no function at all.
            if funcs.get(f as usize).map(FuncInst::type_id)
                != Some(inst.module.inner.type_ids[$type_index as usize])
            {
                trap!(TrapKind::BadSignature)
            }
            f
        }};
    }
    // Reads `$n` bytes at `addr + offset` of memory 0, trapping out of bounds.
    macro_rules! load0 {
        ($addr:expr, $offset:expr, $n:literal) => {{
            let (addr, offset): (u64, u64) = ($addr, $offset);
            let Some(ea) = effective_in(mem0_len, addr, offset, $n) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
                        // SAFETY: `mem0_ptr` addresses the `mem0_len` bytes of memory 0 of the running instance (see
            // `load_mem0!`), and the access lies inside them.
            unsafe { std::ptr::read_unaligned(mem0_ptr.add(ea).cast::<[u8; $n]>()) }
        }};
    }
    // Writes the `$n` bytes `bytes` at `addr + offset` of memory 0 (which does not track dirty pages), trapping
    // out of bounds.
    macro_rules! store0 {
        ($addr:expr, $offset:expr, $n:expr, $bytes:expr) => {{
            let (addr, offset, bytes): (u64, u64, [u8; $n]) = ($addr, $offset, $bytes);
            let Some(ea) = effective_in(mem0_len, addr, offset, $n) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            // SAFETY: as in `load0!`.
            unsafe { std::ptr::write_unaligned(mem0_ptr.add(ea).cast::<[u8; $n]>(), bytes) }
        }};
    }
    // The sanitizer's check of an access of `$n` bytes at `$ea` (in bounds) of instance memory `$mem`: traps with
    // its report when the shadow refuses it.
    macro_rules! san_check {
        ($mem:expr, $ea:expr, $n:expr, $write:expr) => {{
            let (ea, n): (usize, usize) = ($ea, $n as usize);
            if let Some(san) = sanitizer.as_deref()
                && inst.memories[$mem as usize] == san.memory
                && (n > 16 || n == 0 || !san.clean(ea, n))
            {
                let sp = san.stack_pointer.map(|g| globals[g as usize].value as u32);
                if let Some(r) = san.check_range(ea as u64, n as u64, $write, sp) {
                    let report = san.report(r, None, &|raw| resolve_frames(instances, raw));
                    trap!(TrapKind::Sanitizer(Box::new(report)))
                }
            }
        }};
    }
    // The sanitizer of the running instance's memory 0, if it has one.
    macro_rules! san_here {
        () => {
            sanitizer
                .as_deref_mut()
                .filter(|s| inst.memories.first() == Some(&s.memory))
        };
    }
    // The backtrace of the running op, innermost frame first, for the sanitizer's records.
    macro_rules! san_frames {
        () => {{
            let cur = (pc!() - 1) as u32;
            let raw: Arc<[RawFrame]> = frames
                .iter()
                .rev()
                .take(MAX_FRAMES)
                .enumerate()
                .map(|(i, f)| RawFrame {
                    instance: f.instance,
                    body: f.body,
                    pc: if i == 0 { cur } else { f.pc.saturating_sub(1) },
                })
                .collect();
            raw
        }};
    }
    macro_rules! hit {
        ($edge:expr) => {{
            let i = inst.cov_base as usize + $edge as usize;
            if coverage[i] == u8::MAX {
                if coverage_overflow.len() <= i {
                    coverage_overflow.resize(coverage.len(), 0);
                }
                coverage_overflow[i] += 1;
            } else {
                coverage[i] += 1;
            }
        }};
    }
    macro_rules! log_cmp {
        ($v:expr) => {
            if cmp_log.len() < CMP_LOG_LIMIT {
                cmp_log.push($v);
            }
        };
    }

    // Logs the operands of a fused comparison of `kind` (`CMP_I32` or `CMP_I64`), given as their stack cells.
    macro_rules! log_cmp_cells {
        ($kind:expr, $a:expr, $b:expr) => {{
            let (a, b): (u64, u64) = ($a, $b);
            log_cmp!(if $kind == CMP_I64 {
                CmpValues::W64(a, b)
            } else {
                CmpValues::W32(a as u32, b as u32)
            })
        }};
    }
    // The stack cell of a fused comparison's immediate operand: what the constant it stands for pushed.
    macro_rules! imm_cell {
        ($kind:expr, $c:expr) => {
            if $kind == CMP_I64 {
                <i64 as Imm>::from_imm($c) as u64
            } else {
                u64::from($c)
            }
        };
    }

    // The hand-written semantics of the `special` ops this dispatcher alone runs (see `shared_special!`).
    macro_rules! unshared_special {
        (Unreachable) => {
            trap!(TrapKind::Unreachable)
        };
        (Return) => {{
            do_return!();
            charge!();
        }};
        (Break) => {{
            // The op was not executed: give its fuel back and stay on it.
            fuel_left += if EXACT {
                1
            } else {
                u64::from(rest_at!(pc!() - 1))
            };
            save!(pc!() - 1);
            return Ok(Some(Exit::Breakpoint));
        }};
        (Cov $edge:ident) => {
            hit!($edge)
        };
        (JumpIfNezCov $target:ident) => {{
            if pop!(u32) != 0 {
                hit!(body.edges[pc!() - 1]);
                goto!($target as usize);
            }
            charge!();
        }};
        (JumpIfEqzCov $target:ident) => {{
            if pop!(u32) == 0 {
                hit!(body.edges[pc!() - 1]);
                goto!($target as usize);
            }
            charge!();
        }};
        (BrIfNezCov $target:ident $drop:ident $keep:ident) => {{
            if pop!(u32) != 0 {
                hit!(body.edges[pc!() - 1]);
                branch!($target, $drop, $keep);
            }
            charge!();
        }};
        (ReturnIfNezCov) => {{
            if pop!(u32) != 0 {
                hit!(body.edges[pc!() - 1]);
                do_return!();
            }
            charge!();
        }};
        (BrTableCov $len:ident) => {{
            let i = pop!(u32).min($len) as usize;
            hit!(body.edges[pc!() + i]);
            let Op::BrTableEntry { target, drop, keep } = code[pc!() + i] else {
                unreachable!("br_table is followed by its entries")
            };
            if target == RETURN_TARGET {
                do_return!();
            } else {
                branch!(target, drop, keep);
            }
            charge!();
        }};
        (CmpLog $kind:ident) => {
            match $kind {
                CMP_I32 => log_cmp!(CmpValues::W32(
                    get!(u64, sp.wrapping_sub(2)) as u32,
                    get!(u64, sp.wrapping_sub(1)) as u32
                )),
                CMP_I64 => log_cmp!(CmpValues::W64(
                    get!(u64, sp.wrapping_sub(2)),
                    get!(u64, sp.wrapping_sub(1))
                )),
                CMP_I32_EQZ => log_cmp!(CmpValues::W32(get!(u64, sp.wrapping_sub(1)) as u32, 0)),
                CMP_I64_EQZ => log_cmp!(CmpValues::W64(get!(u64, sp.wrapping_sub(1)), 0)),
                _ => log_cmp!(CmpValues::W32(get!(u64, sp.wrapping_sub(1)) as u32, 0)),
            }
        };
        (CmpLogL $kind:ident $b:ident) => {
            log_cmp_cells!($kind, get!(u64, top!(1)), get!(u64, local!($b)))
        };
        (CmpLogC $kind:ident $c:ident) => {
            log_cmp_cells!($kind, get!(u64, top!(1)), imm_cell!($kind, $c))
        };
        (CmpLogLL $kind:ident $a:ident $b:ident) => {
            log_cmp_cells!($kind, get!(u64, local!($a)), get!(u64, local!($b)))
        };
        (CmpLogLC $kind:ident $a:ident $c:ident) => {
            log_cmp_cells!($kind, get!(u64, local!($a)), imm_cell!($kind, $c))
        };
        (CovJump $edge:ident $target:ident) => {{
            hit!($edge);
            goto!($target as usize);
            charge!();
        }};
        (CmpLogCall $func:ident) => {
            if let Some(kind) = inst.module.inner.cmp_funcs.get(&$func) {
                let (a, b, n) = match kind {
                    CmpFunc::Str => (
                        get!(u64, sp.wrapping_sub(2)),
                        get!(u64, sp.wrapping_sub(1)),
                        32,
                    ),
                    _ => (
                        get!(u64, sp.wrapping_sub(3)),
                        get!(u64, sp.wrapping_sub(2)),
                        get!(u64, sp.wrapping_sub(1)).min(32),
                    ),
                };
                if let Some(&m) = inst.memories.first() {
                    let data = &memories[m as usize].data;
                    let read = |p: u64| -> Vec<u8> {
                        let start = (p as usize).min(data.len());
                        let end = start.saturating_add(n as usize).min(data.len());
                        let bytes = &data[start..end];
                        match kind {
                            CmpFunc::Mem => bytes.to_vec(),
                            _ => bytes.iter().copied().take_while(|&c| c != 0).collect(),
                        }
                    };
                    log_cmp!(CmpValues::Bytes(read(a), read(b)));
                }
            }
        };
        (ReturnIfNez) => {{
            if pop!(u32) != 0 {
                do_return!();
            }
            charge!();
        }};
        (Call $func:ident) => {{
            match $func.checked_sub(inst.module.inner.num_imported_funcs) {
                Some(body_index) => call_local!(inst.funcs[$func as usize], body_index),
                None => call!(inst.funcs[$func as usize]),
            }
            charge!();
        }};
        (CallIndirect $type_index:ident $table:ident) => {{
            let f = indirect_target!($type_index, $table);
            match funcs[f as usize] {
                FuncInst::Wasm {
                    instance,
                    func_index,
                    ..
                } if instance == inst_index => {
                    call_local!(f, func_index - inst.module.inner.num_imported_funcs)
                }
                _ => call!(f),
            }
            charge!();
        }};
        (ReturnCall $func:ident) => {{
            tail_call!(inst.funcs[$func as usize]);
            charge!();
        }};
        (ReturnCallIndirect $type_index:ident $table:ident) => {{
            let f = indirect_target!($type_index, $table);
            tail_call!(f);
            charge!();
        }};
        (GlobalGet $index:ident) => {
            push!(
                u64,
                globals[inst.globals[$index as usize] as usize].value as u64
            )
        };
        (GlobalSet $index:ident) => {
            globals[inst.globals[$index as usize] as usize].value = u128::from(pop!(u64))
        };
        (GlobalGetV128 $index:ident) => {
            push!(u128, globals[inst.globals[$index as usize] as usize].value)
        };
        (GlobalSetV128 $index:ident) => {
            globals[inst.globals[$index as usize] as usize].value = pop!(u128)
        };
        (ConstV128 $index:ident) => {
            push!(u128, body.consts[$index as usize])
        };
        (MemorySize $mem:ident) => {
            push!(u64, mem!($mem).pages())
        };
        (MemoryGrow $mem:ident) => {{
            let delta = pop!(u64);
            let room = max_memory_bytes.saturating_sub(memory_bytes(memories));
            let m = mem_mut!($mem);
            // The bytes zeroed are paid for when the limits allow them.
            if m.may_grow(delta, room) {
                pay_bulk!(delta * PAGE_SIZE, 1);
            } else if trap_at_memory_limit && m.may_grow(delta, u64::MAX) {
                trap!(TrapKind::ResourceExhausted(Resource::Memory));
            }
            let failed = if m.ty.memory64 {
                u64::MAX
            } else {
                u64::from(u32::MAX)
            };
            let grown = m.grow(delta, room);
            let len = m.data.len();
            if grown.is_some()
                && let Some(san) = sanitizer.as_deref_mut()
                && san.memory == inst.memories[$mem as usize]
            {
                san.grow(len);
            }
            push!(u64, grown.unwrap_or(failed));
            load_mem0!();
            charge!();
        }};
        (MemoryFill $mem:ident) => {{
            let n = pop!(u64);
            let val = pop!(u32) as u8;
            let d = pop!(u64);
            let m = mem_mut!($mem);
            let Some(d) = in_bounds(d, n, m.data.len()) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            pay_bulk!(n, 3);
            san_check!($mem, d, n, true);
            m.data[d..d + n as usize].fill(val);
            if m.mark_dirty(d, n as usize) {
                watch_stop!();
            }
            charge!();
        }};
        (MemoryCopy $dst:ident $src:ident) => {{
            let n = pop!(u64);
            let s = pop!(u64);
            let d = pop!(u64);
            let (di, si) = (
                inst.memories[$dst as usize] as usize,
                inst.memories[$src as usize] as usize,
            );
            let (Some(s), Some(d)) = (
                in_bounds(s, n, memories[si].data.len()),
                in_bounds(d, n, memories[di].data.len()),
            ) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            pay_bulk!(n, 3);
            let n = n as usize;
            san_check!($src, s, n, false);
            san_check!($dst, d, n, true);
            if di == si {
                memories[di].data.copy_within(s..s + n, d);
            } else {
                let tmp = memories[si].data[s..s + n].to_vec();
                memories[di].data[d..d + n].copy_from_slice(&tmp);
            }
            if memories[di].mark_dirty(d, n) {
                watch_stop!();
            }
            charge!();
        }};
        (MemoryInit $data:ident $mem:ident) => {{
            let n = pop!(u32);
            let s = pop!(u32);
            let d = pop!(u64);
            let seg = &inst.module.inner.datas[$data as usize].bytes;
            let seg: &[u8] = if datas[inst.datas[$data as usize] as usize].dropped {
                &[]
            } else {
                seg
            };
            let m = mem_mut!($mem);
            let (Some(s), Some(d)) = (
                in_bounds(u64::from(s), u64::from(n), seg.len()),
                in_bounds(d, u64::from(n), m.data.len()),
            ) else {
                trap!(TrapKind::MemoryOutOfBounds)
            };
            pay_bulk!(u64::from(n), 3);
            san_check!($mem, d, n, true);
            m.data[d..d + n as usize].copy_from_slice(&seg[s..s + n as usize]);
            if m.mark_dirty(d, n as usize) {
                watch_stop!();
            }
            charge!();
        }};
        (DataDrop $data:ident) => {
            datas[inst.datas[$data as usize] as usize].dropped = true
        };
        (TableGet $table:ident) => {{
            let i = pop!(u64);
            let t = &tables[table_index!($table)];
            let Some(&cell) = usize::try_from(i).ok().and_then(|i| t.elems.get(i)) else {
                trap!(TrapKind::TableOutOfBounds)
            };
            push!(u64, cell);
        }};
        (TableSet $table:ident) => {{
            let v = pop!(u64);
            let i = pop!(u64);
            let t = &mut tables[table_index!($table)];
            let bad = bad_ref(t, v, funcs.len());
            let Some(slot) = usize::try_from(i).ok().and_then(|i| t.elems.get_mut(i)) else {
                trap!(TrapKind::TableOutOfBounds)
            };
            if bad {
                trap!(TrapKind::BadReference)
            }
            *slot = v;
        }};
        (TableSize $table:ident) => {
            push!(u64, tables[table_index!($table)].elems.len() as u64)
        };
        (TableGrow $table:ident) => {{
            let n = pop!(u64);
            let init = pop!(u64);
            let room = max_table_elements.saturating_sub(table_elements(tables));
            let t = &mut tables[table_index!($table)];
            if bad_ref(t, init, funcs.len()) {
                trap!(TrapKind::BadReference)
            }
            // The elements written are paid for when the limits allow them.
            if t.may_grow(n, room) {
                pay_bulk!(n, 2);
            }
            let failed = if t.ty.table64 {
                u64::MAX
            } else {
                u64::from(u32::MAX)
            };
            push!(u64, t.grow(n, init, room).unwrap_or(failed));
            charge!();
        }};
        (TableFill $table:ident) => {{
            let n = pop!(u64);
            let v = pop!(u64);
            let i = pop!(u64);
            let t = &mut tables[table_index!($table)];
            let Some(i) = in_bounds(i, n, t.elems.len()) else {
                trap!(TrapKind::TableOutOfBounds)
            };
            if bad_ref(t, v, funcs.len()) {
                trap!(TrapKind::BadReference)
            }
            pay_bulk!(n, 3);
            t.elems[i..i + n as usize].fill(v);
            charge!();
        }};
        (TableCopy $dst:ident $src:ident) => {{
            let n = pop!(u64);
            let s = pop!(u64);
            let d = pop!(u64);
            let (di, si) = (table_index!($dst), table_index!($src));
            let (Some(s), Some(d)) = (
                in_bounds(s, n, tables[si].elems.len()),
                in_bounds(d, n, tables[di].elems.len()),
            ) else {
                trap!(TrapKind::TableOutOfBounds)
            };
            pay_bulk!(n, 3);
            let n = n as usize;
            if di == si {
                tables[di].elems.copy_within(s..s + n, d);
            } else {
                let tmp = tables[si].elems[s..s + n].to_vec();
                tables[di].elems[d..d + n].copy_from_slice(&tmp);
            }
            charge!();
        }};
        (TableInit $elem:ident $table:ident) => {{
            let n = pop!(u32);
            let s = pop!(u32);
            let d = pop!(u64);
            let seg = &elems[inst.elems[$elem as usize] as usize];
            let t = &mut tables[table_index!($table)];
            let (Some(s), Some(d)) = (
                in_bounds(u64::from(s), u64::from(n), seg.len()),
                in_bounds(d, u64::from(n), t.elems.len()),
            ) else {
                trap!(TrapKind::TableOutOfBounds)
            };
            pay_bulk!(u64::from(n), 3);
            t.elems[d..d + n as usize].copy_from_slice(&seg[s..s + n as usize]);
            charge!();
        }};
        (ElemDrop $elem:ident) => {
            elems[inst.elems[$elem as usize] as usize] = Vec::new()
        };
        (RefNull) => {
            push!(u64, 0)
        };
        (RefIsNull) => {{
            let r = pop!(u64);
            push!(u32, u32::from(r == 0));
        }};
        (RefFunc $func:ident) => {
            push!(u64, u64::from(inst.funcs[$func as usize]) + 1)
        };
        (I8x16Shuffle $index:ident) => {{
            let b = pop!(u128);
            let a = pop!(u128);
            push!(
                u128,
                simd::i8x16_shuffle(a, b, body.consts[$index as usize].to_le_bytes())
            );
        }};
        (CallBody $body:ident) => {{
            let f = frames.last().expect("a frame is running").func;
            save!(pc!());
            let mut new_sp = sp_index!();
            let pushed = push_frame(
                instances,
                stack,
                frames,
                &mut new_sp,
                f,
                inst_index,
                $body,
                (max_depth, max_stack),
            );
            base = stack.as_mut_ptr();
            sp = base.wrapping_add(new_sp);
            match pushed {
                Ok(()) => load_frame!(),
                Err(kind) => trap!(kind),
            }
            charge!();
        }};
        (SanEnter $kind:ident) => {{
            let kind = AllocFn::from_u8($kind);
            let resolve = |raw: &[RawFrame]| resolve_frames(instances, raw);
            let ptr = get!(u32, fp);
            let outer = match san_here!() {
                Some(san) => {
                    let outer = san.enter();
                    if outer {
                        let refused = match kind {
                            // The free's backtrace, taken only for the call that records it.
                            AllocFn::Free => san.free(ptr, san_frames!(), &resolve).err(),
                            AllocFn::Realloc => san.bad_free(ptr, &resolve).map(Box::new),
                            _ => None,
                        };
                        if let Some(report) = refused {
                            trap!(TrapKind::Sanitizer(report))
                        }
                    }
                    outer
                }
                None => false,
            };
            push!(u32, u32::from(outer));
        }};
        (SanSize $kind:ident) => {{
            let arg = |i: usize| get!(u32, fp.wrapping_add(i));
            match AllocFn::from_u8($kind) {
                AllocFn::Malloc => push!(u32, request_size(arg(0), 16)),
                AllocFn::Calloc => push!(
                    u32,
                    arg(0)
                        .checked_mul(arg(1))
                        .map_or(u32::MAX, |n| request_size(n, 16))
                ),
                AllocFn::Realloc => push!(u32, request_size(arg(1), 16)),
                AllocFn::AlignedAlloc | AllocFn::Memalign => {
                    push!(u32, arg(0));
                    push!(u32, request_size(arg(1), arg(0)));
                }
                AllocFn::PosixMemalign => {
                    push!(u32, arg(0));
                    push!(u32, arg(1));
                    push!(u32, request_size(arg(2), arg(1)));
                }
                AllocFn::Free | AllocFn::UsableSize => {}
            }
        }};
        (SanAllocated $kind:ident) => {{
            let arg = |i: usize| get!(u32, fp.wrapping_add(i));
            let ret = pop!(u32);
            let kind = AllocFn::from_u8($kind);
            let alloc = san_frames!();
            let resolve = |raw: &[RawFrame]| resolve_frames(instances, raw);
            let Some(san) = san_here!() else {
                trap!(TrapKind::Host(
                    "sanitizer wrapper without a sanitizer".into()
                ))
            };
            let mem = &mut memories[san.memory as usize];
            let result = match kind {
                AllocFn::Malloc | AllocFn::Calloc | AllocFn::Realloc if ret == 0 => 0,
                AllocFn::Malloc => san.allocated(ret, arg(0), 16, alloc),
                AllocFn::Calloc => {
                    let size = arg(0).wrapping_mul(arg(1));
                    let user = san.allocated(ret, size, 16, alloc);
                    let (start, end) = (user as usize, user as usize + size as usize);
                    if let Some(bytes) = mem.data.get_mut(start..end) {
                        bytes.fill(0);
                        mem.mark_dirty(start, end - start);
                    }
                    user
                }
                AllocFn::Realloc => {
                    let (old, size) = (arg(0), arg(1));
                    let old_size = san.block_size(old).unwrap_or(0);
                    let user = san.allocated(ret, size, 16, alloc.clone());
                    let n = old_size.min(size) as usize;
                    if old != 0
                        && (old as usize + n) <= mem.data.len()
                        && (user as usize + n) <= mem.data.len()
                    {
                        mem.data
                            .copy_within(old as usize..old as usize + n, user as usize);
                        mem.mark_dirty(user as usize, n);
                    }
                    if let Err(report) = san.free(old, alloc, &resolve) {
                        trap!(TrapKind::Sanitizer(report))
                    }
                    user
                }
                AllocFn::AlignedAlloc | AllocFn::Memalign => {
                    if ret == 0 {
                        0
                    } else {
                        san.allocated(ret, arg(1), arg(0), alloc)
                    }
                }
                AllocFn::PosixMemalign => {
                    let out = arg(0) as usize;
                    if ret == 0
                        && let Some(cell) = mem.data.get_mut(out..out + 4)
                    {
                        let base = u32::from_le_bytes(cell.try_into().expect("4 bytes"));
                        let user = san.allocated(base, arg(2), arg(1), alloc);
                        mem.data[out..out + 4].copy_from_slice(&user.to_le_bytes());
                        mem.mark_dirty(out, 4);
                    }
                    ret
                }
                AllocFn::Free | AllocFn::UsableSize => ret,
            };
            push!(u32, result);
        }};
        (SanRelease) => {{
            let next = san_here!().map_or(0, Sanitizer::next_release);
            push!(u32, next);
        }};
        (SanExit) => {{
            if let Some(san) = san_here!() {
                san.exit();
            }
        }};
        (SanUsableSize) => {{
            let ptr = pop!(u32);
            let size = san_here!().and_then(|s| s.block_size(ptr)).unwrap_or(0);
            push!(u32, size);
        }};
        (StackPointerSet $index:ident) => {{
            let new = pop!(u32);
            let g = inst.globals[$index as usize] as usize;
            let old = globals[g].value as u32;
            let value = match san_here!() {
                Some(san) => san.set_stack_pointer(old, new),
                None => new,
            };
            globals[g].value = u128::from(value);
        }};
    }

    // Region by region, the region entered at the paused op is paid for first.
    charge!();
    loop {
        if EXACT {
            // Strictly more: a run given a single unit of fuel never leaves this loop, so one-op steps count
            // every op one by one (the fuel tests compare region charging against them).
            if fuel_left > u64::from(rest_at!(pc!())) {
                save!(pc!());
                return Ok(None);
            }
            if fuel_left == 0 {
                save!(pc!());
                return Ok(Some(Exit::OutOfFuel));
            }
            fuel_left -= 1;
        }
        // Region by region, handlers run the ops they can (and stop before any other).
        #[cfg(feature = "handler-dispatch")]
        if !EXACT {
            // The running instance's edge counters, which `Cov` and `CovJump` handlers count in.
            let counters: &mut [u8] = coverage
                .get_mut(inst.cov_base as usize..)
                .unwrap_or_default();
            let mut regs = handlers::Registers {
                code: code.as_ptr(),
                rest: rest.as_ptr(),
                fuel: fuel_left,
                ip,
                sp,
                counters: counters.as_mut_ptr(),
                counters_len: counters.len(),
            };
            let stop = handlers::run(&mut regs, fp, mem0_ptr, mem0_len);
            (ip, sp, fuel_left) = (regs.ip, regs.sp, regs.fuel);
            if stop == handlers::Stop::Fuel {
                save!(pc!());
                return Ok(None);
            }
        }
        let pc = pc!();
        debug_assert_eq!(
            sp,
            fp.wrapping_add(body.local_cells as usize + body.heights[pc] as usize),
            "stack height disagrees with the translator before op {pc} {:?}",
            code[pc]
        );
        debug_assert!(pc < code.len(), "pc {pc} past the end of the code");
        // SAFETY: `pc` is in bounds: the translator ends every body with an op that never falls through
        // and resolves every branch target inside the body; calls resume after their call op, which is
        // never last; snapshot restore checks a paused frame's `pc` against the code's length.
        // (`ip` points at op `pc` of `code`.)
        let op = *unsafe { &*ip };
        ip = ip.wrapping_add(1);
        // The match arms, one per op, from the op list.
        macro_rules! match_sink {
            ($($name:ident { $($f:ident),* } => $body:tt)*) => {
                match op {
                    $(Op::$name { $($f),* } => $body)*
                }
            };
        }
        macro_rules! dispatch {
            ($($table:tt)*) => {
                semantics! { match_sink; $($table)* }
            };
        }
        for_each_op_flat!(dispatch);
    }
}

/// Handler-per-op dispatch: one function per op, generated from the op list with the semantics the match loop
/// runs, taking the interpreter's registers as arguments and ending by calling the next op's handler in tail
/// position, which LLVM compiles to a jump (a sibling call) in release builds. A chain of handlers runs while
/// fuel is charged region by region; it stops at an op that only the match loop runs (calls, returns, tables,
/// bulk memory, breakpoints, coverage's branch ops and comparison logging — edges counted by `Cov` and `CovJump`
/// are counted here —, the sanitizer's ops, accesses to memories other than memory 0, dirty-page tracking) and at
/// an op that traps, leaving the registers as they were before that op, and `run` runs it.
/// Debug builds do not make sibling calls: there every handler returns to a trampoline.
#[cfg(feature = "handler-dispatch")]
mod handlers {
    use super::{effective, effective_in, read, write};
    use crate::error::TrapKind;
    use crate::ir::{Imm, Op, StackValue};
    use crate::num;
    use crate::simd;
    use crate::store::MemoryInst;
    use crate::translate::RETURN_TARGET;

    /// The registers a handler does not take as arguments, and where a chain leaves `ip` and `sp` when it stops.
    #[derive(Debug)]
    pub(super) struct Registers {
        /// The running body's code and fuel regions (`FuncBody::rest`), one entry per op.
        pub(super) code: *const Op,
        pub(super) rest: *const u32,
        pub(super) fuel: u64,
        pub(super) ip: *const Op,
        pub(super) sp: *mut u64,
        /// The running instance's edge counters (`counters_len` of them), borrowed from the store's coverage
        /// map for the chain's run.
        pub(super) counters: *mut u8,
        pub(super) counters_len: usize,
    }

    /// Why a chain of handlers stopped.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) enum Stop {
        /// The op at `ip` is the match loop's to run; nothing of it has run.
        Op,
        /// Control entered the code at `ip` and the fuel left cannot pay for the rest of its region.
        Fuel,
        /// Debug builds only: one op ran and the trampoline calls the next handler.
        Next,
    }

    type Handler = fn(&mut Registers, *const Op, *mut u64, *mut u64, *mut u8, usize) -> Stop;

    /// Runs handlers from `regs.ip` until one stops; `fp` and memory 0 (`mem0_ptr`, `mem0_len`) are as in `run`.
    pub(super) fn run(
        regs: &mut Registers,
        fp: *mut u64,
        mem0_ptr: *mut u8,
        mem0_len: usize,
    ) -> Stop {
        loop {
            let (ip, sp) = (regs.ip, regs.sp);
            // SAFETY: `ip` points at an op of the running body, as in `run`'s fetch.
            let handler = handler_of(unsafe { &*ip });
            match handler(regs, ip, sp, fp, mem0_ptr, mem0_len) {
                Stop::Next => {}
                stop => return stop,
            }
        }
    }

    // The registers of the running handler, through the macros every handler defines for itself (`regs!`, `ip!`,
    // `sp!`, `fp!`, `ip0!` and `sp0!`, the registers when it started, `mem0_ptr!`, `mem0_len!`). Stops before the
    // op, which the match loop runs from the registers as they were.
    macro_rules! bail {
        () => {{
            regs!().ip = ip0!();
            regs!().sp = sp0!();
            return Stop::Op;
        }};
    }
    // SAFETY for every `get!`, `set!`, `pop!`, `push!` and `copy_cells!`: as in `run`.
    macro_rules! get {
        ($t:ty, $at:expr) => {{
            let at: *mut u64 = $at;
            // SAFETY: see above.
            unsafe { read::<$t>(at) }
        }};
    }
    macro_rules! set {
        ($t:ty, $at:expr, $v:expr) => {{
            let (at, v): (*mut u64, $t) = ($at, $v);
            // SAFETY: see above.
            unsafe { write::<$t>(at, v) }
        }};
    }
    macro_rules! pop {
        ($t:ty) => {{
            sp!() = sp!().wrapping_sub(<$t as StackValue>::CELLS);
            get!($t, sp!())
        }};
    }
    macro_rules! push {
        ($t:ty, $v:expr) => {{
            let v: $t = $v;
            set!($t, sp!(), v);
            sp!() = sp!().wrapping_add(<$t as StackValue>::CELLS);
        }};
    }
    macro_rules! local {
        ($i:expr) => {
            fp!().wrapping_add($i as usize)
        };
    }
    macro_rules! top {
        ($n:expr) => {
            sp!().wrapping_sub($n)
        };
    }
    macro_rules! shrink {
        ($n:expr) => {
            sp!() = sp!().wrapping_sub($n)
        };
    }
    macro_rules! copy_cells {
        ($src:expr, $dst:expr, $n:expr) => {{
            let (src, dst, n): (*mut u64, *mut u64, usize) = ($src, $dst, $n);
            // SAFETY: see above.
            unsafe { std::ptr::copy(src, dst, n) }
        }};
    }
    macro_rules! goto {
        ($target:expr) => {{
            let target: usize = $target;
            ip!() = regs!().code.wrapping_add(target);
        }};
    }
    // As `run`'s region charging; when the fuel cannot pay, `run` goes on op by op from `ip`.
    macro_rules! op_after {
        ($i:expr) => {{
            let i: usize = $i;
            // SAFETY: as in `run`.
            *unsafe { &*ip!().wrapping_add(i) }
        }};
    }
    // Returns are the match loop's.
    macro_rules! do_return {
        () => {
            bail!()
        };
    }
    macro_rules! charge {
        () => {{
            let pc = (ip!().addr() - regs!().code.addr()) / size_of::<Op>();
            // SAFETY: `rest` has one entry per op and `ip` points at an op, as in `run`.
            let n = u64::from(unsafe { *regs!().rest.add(pc) });
            if regs!().fuel < n {
                regs!().ip = ip!();
                regs!().sp = sp!();
                return Stop::Fuel;
            }
            regs!().fuel -= n;
        }};
    }
    // The match loop runs the op again and traps, with the trap's bookkeeping.
    macro_rules! trap {
        ($kind:expr) => {
            bail!()
        };
    }
    macro_rules! load0 {
        ($addr:expr, $offset:expr, $n:literal) => {{
            let (addr, offset): (u64, u64) = ($addr, $offset);
            let Some(ea) = effective_in(mem0_len!(), addr, offset, $n) else {
                bail!()
            };
            // SAFETY: `mem0_ptr` addresses the `mem0_len` bytes of memory 0 of the running instance, as in `run`,
            // and the access lies inside them.
            unsafe { std::ptr::read_unaligned(mem0_ptr!().add(ea).cast::<[u8; $n]>()) }
        }};
    }
    macro_rules! store0 {
        ($addr:expr, $offset:expr, $n:expr, $bytes:expr) => {{
            let (addr, offset, bytes): (u64, u64, [u8; $n]) = ($addr, $offset, $bytes);
            let Some(ea) = effective_in(mem0_len!(), addr, offset, $n) else {
                bail!()
            };
            // SAFETY: as in `load0!`.
            unsafe { std::ptr::write_unaligned(mem0_ptr!().add(ea).cast::<[u8; $n]>(), bytes) }
        }};
    }
    // Other memories, the sanitizer's checks, dirty-page tracking and the special ops not shared are the match
    // loop's.
    macro_rules! mem {
        ($idx:expr) => {{
            let m: &MemoryInst = bail!();
            m
        }};
    }
    macro_rules! mem_mut {
        ($idx:expr) => {{
            let m: &mut MemoryInst = bail!();
            m
        }};
    }
    macro_rules! san_check {
        ($($t:tt)*) => {
            bail!()
        };
    }
    macro_rules! watch_stop {
        () => {
            bail!()
        };
    }
    // Counts edge `$edge` of the running instance; a counter about to overflow (which the match loop carries into
    // the store's overflow counters) and an edge outside the map stop the chain before the op.
    macro_rules! count_edge {
        ($edge:expr) => {{
            let i = $edge as usize;
            if i >= regs!().counters_len {
                bail!()
            }
            // SAFETY: `counters` points at `counters_len` counters of the store's coverage map, which nothing else
            // reaches while the chain runs, and `i` is below that.
            let counter = unsafe { &mut *regs!().counters.add(i) };
            if *counter == u8::MAX {
                bail!()
            }
            *counter += 1;
        }};
    }
    // Edge counting runs here; the other special ops not shared are the match loop's.
    macro_rules! unshared_special {
        (Cov $edge:ident) => {
            count_edge!($edge)
        };
        (CovJump $edge:ident $target:ident) => {{
            count_edge!($edge);
            goto!($target as usize);
            charge!();
        }};
        ($($t:tt)*) => {
            bail!()
        };
    }

    // One handler per op, and `handler_of`, which finds an op's handler.
    macro_rules! handler_sink {
        ($($name:ident { $($f:ident),* } => $body:tt)*) => {
            #[inline(always)]
            fn handler_of(op: &Op) -> Handler {
                match op {
                    $(Op::$name { .. } => $name as Handler,)*
                }
            }
            $(
                #[allow(non_snake_case, unreachable_code, unused_assignments, unused_macros, unused_mut, unused_variables, clippy::let_unit_value)]
                fn $name(
                    regs: &mut Registers,
                    ip0: *const Op,
                    sp0: *mut u64,
                    fp: *mut u64,
                    mem0_ptr: *mut u8,
                    mem0_len: usize,
                ) -> Stop {
                    let mut ip = ip0.wrapping_add(1);
                    let mut sp = sp0;
                    macro_rules! regs { () => { regs }; }
                    macro_rules! ip { () => { ip }; }
                    macro_rules! sp { () => { sp }; }
                    macro_rules! fp { () => { fp }; }
                    macro_rules! ip0 { () => { ip0 }; }
                    macro_rules! sp0 { () => { sp0 }; }
                    macro_rules! mem0_ptr { () => { mem0_ptr }; }
                    macro_rules! mem0_len { () => { mem0_len }; }
                    let Op::$name { $($f),* } = (
                        // SAFETY: `ip0` points at an op of the running body, as in `run`.
                        unsafe { *ip0 }
                    ) else {
                        // SAFETY: `handler_of` chose this handler for this op's variant.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    $body
                    if cfg!(debug_assertions) {
                        regs.ip = ip;
                        regs.sp = sp;
                        return Stop::Next;
                    }
                    // SAFETY: `ip` points at an op of the running body, as in `run`'s fetch.
                    let next = handler_of(unsafe { &*ip });
                    next(regs, ip, sp, fp, mem0_ptr, mem0_len)
                }
            )*
        };
    }

    macro_rules! handlers_from_table {
        ($($table:tt)*) => {
            semantics! { handler_sink; $($table)* }
        };
    }
    for_each_op_flat!(handlers_from_table);
}
