#!/usr/bin/env bash
# Builds the SQLite libFuzzer harness for wasm32-wasi with Debian's clang: build.sh OUT.wasm
# SQLite's amalgamation is not in this repository: it comes from the crates.io package libsqlite3-sys (which bundles
# it as sqlite3/sqlite3.c), which cargo fetches
# at the version ../libs/Cargo.lock pins (see ../lib-source).
# Compiling the amalgamation takes about a minute; the compiled object is kept in $CAPICOLA_HARNESS_LIBS (default:
# the cargo target folder's harness-libs/) and reused while these options and the package stay the same.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
crate="$(bash "$here/../lib-source" libsqlite3-sys)"
src="$crate/sqlite3"
# No threads, no operating-system layer (the harness brings a memory-only VFS), temporary storage in memory; FTS5
# for the full-text table of the schema.
options=(-DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_LOAD_EXTENSION
  -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED -DSQLITE_DEFAULT_MEMSTATUS=0
  -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_ENABLE_FTS5 -DLONGDOUBLE_TYPE=double)
flags=(--target=wasm32-wasi -O2 -g0)
cache="${CAPICOLA_HARNESS_LIBS:-${CARGO_TARGET_DIR:-$here/../../target}/harness-libs}"
mkdir -p "$cache"
object="$cache/sqlite3-$(echo "$crate ${flags[*]} ${options[*]} $(clang --version | head -1)" | sha256sum | cut -c1-16).o"
if [ ! -f "$object" ]; then
  clang "${flags[@]}" -w "${options[@]}" -c -o "$object.partial.$$" "$src/sqlite3.c"
  mv "$object.partial.$$" "$object"
fi
mkdir -p "$(dirname "$out")"
clang "${flags[@]}" -Wall -Werror "${options[@]}" -I"$src" -c -o "$out.harness.o" "$here/fuzz_sqlite.c"
clang "${flags[@]}" -mexec-model=reactor \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=LLVMFuzzerInitialize -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$out.harness.o" "$object"
rm -f "$out.harness.o"
mv "$out.partial" "$out"
