#!/usr/bin/env bash
# Builds the zlib libFuzzer harness for wasm32-wasi with Debian's clang: build.sh OUT.wasm
# zlib's sources are not in this repository: they come from the crates.io package libz-sys (which bundles them
# under src/zlib), which cargo fetches
# at the version ../libs/Cargo.lock pins (see ../lib-source).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
crate="$(bash "$here/../lib-source" libz-sys)"
src="$crate/src/zlib"
mkdir -p "$(dirname "$out")"
# The harness is held to -Wall -Werror; the library is compiled as it comes (-w).
clang --target=wasm32-wasi -O2 -g0 -Wall -Werror -I"$src" -c -o "$out.harness.o" "$here/fuzz_zlib.c"
clang --target=wasm32-wasi -O2 -g0 -w -mexec-model=reactor -I"$src" \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$out.harness.o" \
  "$src"/{adler32,compress,crc32,deflate,inffast,inflate,inftrees,trees,uncompr,zutil}.c
rm -f "$out.harness.o"
mv "$out.partial" "$out"
