#!/usr/bin/env bash
# Builds the tlvconf libFuzzer harness for wasm32-wasi with Debian's clang: build.sh OUT.wasm
# A WASI reactor (no main): capicola runs `_initialize` once, then LLVMFuzzerTestOneInput per input, with the
# input in a buffer from the exported malloc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
mkdir -p "$(dirname "$out")"
clang --target=wasm32-wasi -O2 -g0 -Wall -Werror -mexec-model=reactor \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$here/tlv.c" "$here/fuzz_tlv.c"
mv "$out.partial" "$out"
