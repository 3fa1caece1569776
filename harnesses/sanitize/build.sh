#!/usr/bin/env bash
# Builds the planted-bug libFuzzer harnesses for wasm32-wasi with Debian's clang: build.sh OUTDIR
# Every NAME.c beside this script (but planted.c, which each links) becomes OUTDIR/NAME-O1.wasm (-O1 -g: DWARF, so
# reports show file:line) and OUTDIR/NAME-O2.wasm (-O2, no DWARF at all). Both keep the name section, which the sanitizer
# finds the allocator by and reports show function names from. WASI reactors, like harnesses/tlvconf.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTDIR}"
mkdir -p "$out"
for source in "$here"/*.c; do
  name="$(basename "$source" .c)"
  [ "$name" = planted ] && continue
  for level in O1 O2; do
    debug=(-g0 -Wl,--strip-debug) # wasi-libc's own DWARF too
    [ "$level" = O1 ] && debug=(-g)
    clang --target=wasm32-wasi "-$level" "${debug[@]}" -Wall -Werror -mexec-model=reactor \
      -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
      -o "$out/$name-$level.wasm.partial" "$source" "$here/planted.c"
    mv "$out/$name-$level.wasm.partial" "$out/$name-$level.wasm"
  done
done
