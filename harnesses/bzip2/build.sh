#!/usr/bin/env bash
# Builds the bzip2 libFuzzer harness for wasm32-wasi with Debian's clang: build.sh OUT.wasm
# bzip2's sources are not in this repository: they come from the crates.io package bzip2-sys (which bundles them
# under bzip2-1.0.8), which cargo fetches
# at the version ../libs/Cargo.lock pins (see ../lib-source).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
crate="$(bash "$here/../lib-source" bzip2-sys)"
src="$crate/bzip2-1.0.8"
mkdir -p "$(dirname "$out")"
# The harness is held to -Wall -Werror; the library is compiled as it comes (-w), without its stdio layer.
clang --target=wasm32-wasi -O2 -g0 -Wall -Werror -DBZ_NO_STDIO -I"$src" -c -o "$out.harness.o" "$here/fuzz_bzip2.c"
clang --target=wasm32-wasi -O2 -g0 -w -DBZ_NO_STDIO -mexec-model=reactor -I"$src" \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$out.harness.o" \
  "$src"/{blocksort,huffman,crctable,randtable,compress,decompress,bzlib}.c
rm -f "$out.harness.o"
mv "$out.partial" "$out"
