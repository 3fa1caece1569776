#!/usr/bin/env bash
# Builds one public benchmark program for wasm32-wasi with Debian's clang: build-program.sh PROGRAM OUT.wasm
# PROGRAM is the stem of one of the mains beside this script (zstd, zlib, bzip2, sqlite, lua, coremark-eembc). Each
# main exports `run(n) -> checksum` and drives a C library nobody in this project wrote, built here from its sources:
# - zstd, zlib, bzip2, sqlite, lua: the crates.io packages that bundle them (zstd-sys, libz-sys, bzip2-sys,
#   libsqlite3-sys, lua-src), which cargo fetches at the versions ../libs/Cargo.lock pins (see ../lib-source);
# - coremark-eembc: EEMBC's CoreMark sources, which no package registry carries: set COREMARK_SRC to a checkout of
#   EEMBC's coremark repository. Without it this script exits with status 3 and says so; the benchmark then skips
#   CoreMark.
# The modules import nothing (no libc start files, no WASI calls): the benchmark's engines run them without a host.
# What is compiled of a library is kept in $CAPICOLA_HARNESS_LIBS (default: the cargo target folder's
# harness-libs/) and reused while its package, options and compiler stay the same.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
program="${1:?usage: build-program.sh PROGRAM OUT.wasm}"
out="${2:?usage: build-program.sh PROGRAM OUT.wasm}"
flags=(--target=wasm32-wasi -O2 -g0)
link=(-nostartfiles -Wl,--no-entry -Wl,--strip-debug)
cache="${CAPICOLA_HARNESS_LIBS:-${CARGO_TARGET_DIR:-$here/../../target}/harness-libs}"
mkdir -p "$cache" "$(dirname "$out")"

# objects LIBRARY SRC_ROOT OPTION... -- FILE...: compiles each FILE (relative to SRC_ROOT) with the OPTIONs, as it
# comes (-w), into a cache folder named by a hash of everything that goes into it; sets `objs` to the objects.
objects() {
  local lib="$1" root="$2"
  shift 2
  local options=()
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  local key
  key="$(echo "$root ${flags[*]} ${options[*]} $* $(clang --version | head -1) $(cd "$root" && cat "$@" | sha256sum)" |
    sha256sum | cut -c1-16)"
  local dir="$cache/bench-$lib-$key"
  objs=()
  if [ ! -f "$dir/done" ]; then
    mkdir -p "$dir"
    local file
    for file in "$@"; do
      clang "${flags[@]}" -w "${options[@]}" -c -o "$dir/$(echo "$file" | tr / _).o" "$root/$file"
    done
    touch "$dir/done"
  fi
  local file
  for file in "$@"; do objs+=("$dir/$(echo "$file" | tr / _).o"); done
}

# main OPTION...: compiles this folder's PROGRAM.c, held to -Wall -Werror, and links it with `objs` (and the
# libraries in `libs`) into OUT.
libs=()
main() {
  clang "${flags[@]}" -Wall -Werror "$@" -c -o "$out.main.o" "$here/$program.c"
  clang "${flags[@]}" "${link[@]}" -o "$out.partial" "$out.main.o" "${objs[@]}" "${libs[@]}"
  rm -f "$out.main.o"
  mv "$out.partial" "$out"
}

case "$program" in
  zstd)
    src="$(bash "$here/../lib-source" zstd-sys)/zstd/lib"
    # Single-threaded, no assembly, no legacy formats: the portable C of the compressor and decompressor.
    options=(-DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -I"$src" -I"$src/common")
    objects zstd "$src" "${options[@]}" -- \
      common/{debug,entropy_common,error_private,fse_decompress,pool,threading,xxhash,zstd_common}.c \
      compress/{fse_compress,hist,huf_compress,zstd_compress,zstd_compress_literals,zstd_compress_sequences}.c \
      compress/{zstd_compress_superblock,zstd_double_fast,zstd_fast,zstd_lazy,zstd_ldm,zstd_opt,zstd_preSplit}.c \
      decompress/{huf_decompress,zstd_ddict,zstd_decompress,zstd_decompress_block}.c
    main "${options[@]}"
    ;;
  zlib)
    src="$(bash "$here/../lib-source" libz-sys)/src/zlib"
    objects zlib "$src" -- {adler32,compress,crc32,deflate,inffast,inflate,inftrees,trees,uncompr,zutil}.c
    main -I"$src"
    ;;
  bzip2)
    src="$(bash "$here/../lib-source" bzip2-sys)/bzip2-1.0.8"
    # Without bzip2's stdio layer; the main brings bz_internal_error.
    objects bzip2 "$src" -DBZ_NO_STDIO -- {blocksort,huffman,crctable,randtable,compress,decompress,bzlib}.c
    main -DBZ_NO_STDIO -I"$src"
    ;;
  sqlite)
    src="$(bash "$here/../lib-source" libsqlite3-sys)/sqlite3"
    # No threads, no operating-system layer (the main brings a VFS that opens no files), temporary storage in memory.
    options=(-DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_LOAD_EXTENSION
      -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED -DSQLITE_DEFAULT_MEMSTATUS=0
      -DSQLITE_MAX_MMAP_SIZE=0 -DLONGDOUBLE_TYPE=double)
    objects sqlite "$src" "${options[@]}" -- sqlite3.c
    main "${options[@]}" -I"$src"
    ;;
  lua)
    src="$(bash "$here/../lib-source" lua-src)/lua-5.4.9"
    # Lua raises errors with longjmp. wasi-libc builds setjmp/longjmp on Wasm exception handling, which the engines
    # compared here do not run (capicola: issue 19), and Debian's wasi-libc ships no <setjmp.h> at all. So an error
    # traps here (LUAI_THROW) and a protected call is a plain call (LUAI_TRY): the script raises no error.
    # Deterministic where Lua asks the system for randomness: the string-hash seed and the sort's pivot salt are
    # fixed, so that every engine does the same work. No standard streams: print() and warnings write nowhere (the
    # script prints nothing). The hook mask is a plain int (wasi-libc has no <signal.h> without emulation).
    options=('-DLUAI_THROW(L,c)=__builtin_trap()' '-DLUAI_TRY(L,c,a)={ a }' -Dluai_jmpbuf=int
      '-Dluai_makeseed(L)=0x5eedu' '-Dl_randomizePivot()=0x5eedu' -Dl_signalT=int
      '-Dlua_writestring(s,l)=((void)(s), (void)(l))' '-Dlua_writeline()=((void)0)'
      '-Dlua_writestringerror(s,p)=((void)(s), (void)(p))' -I"$here/lua_port" -I"$src")
    objects lua "$src" "${options[@]}" -- \
      {lapi,lcode,lctype,ldebug,ldo,ldump,lfunc,lgc,llex,lmem,lobject,lopcodes,lparser,lstate,lstring,ltable}.c \
      {ltm,lundump,lvm,lzio,lauxlib,lbaselib,lmathlib,lstrlib,ltablib}.c
    # wasi-libc's default printf and strtod write a message to stderr when asked for a long double; the full
    # versions do not, and so need no import.
    libs=(-lc-printscan-long-double)
    main "${options[@]}"
    ;;
  coremark-eembc)
    if [ -z "${COREMARK_SRC:-}" ]; then
      echo "COREMARK_SRC is not set: point it at a checkout of EEMBC's coremark repository to build CoreMark" >&2
      exit 3
    fi
    if [ ! -f "$COREMARK_SRC/core_main.c" ]; then
      echo "COREMARK_SRC=$COREMARK_SRC holds no core_main.c: it should be a checkout of EEMBC's coremark" >&2
      exit 1
    fi
    # CoreMark's own files with our port (coremark_port/): its main becomes coremark_main, which the exported
    # run(n) calls. FLAGS_STR is what CoreMark reports as its compiler flags.
    options=(-I"$here/coremark_port" -I"$COREMARK_SRC" -Dmain=coremark_main "-DFLAGS_STR=\"${flags[*]}\"")
    objects coremark "$COREMARK_SRC" "${options[@]}" -- \
      core_list_join.c core_main.c core_matrix.c core_state.c core_util.c
    main "${options[@]}"
    ;;
  *)
    echo "build-program.sh: no program $program (one of zstd, zlib, bzip2, sqlite, lua, coremark-eembc)" >&2
    exit 1
    ;;
esac
