// Stands in for <setjmp.h> in the Lua build (see ../build-program.sh): Lua's ldo.c includes it even when
// LUAI_THROW and LUAI_TRY are defined without setjmp, and the wasi-libc Debian ships has none.
