#!/usr/bin/env bash
# Builds the crashdemo libFuzzer harness for wasm32-wasi with Debian's clang, with DWARF (-g) for the debugger:
# build.sh OUT.wasm
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
mkdir -p "$(dirname "$out")"
clang --target=wasm32-wasi -O0 -g -Wall -Werror -mexec-model=reactor \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$here/crash.c"
mv "$out.partial" "$out"
