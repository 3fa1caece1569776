#!/usr/bin/env bash
# Builds the example harness (README: "Write your own harness"): build.sh OUT.wasm [SOURCE.c] (rec.c by default;
# other harnesses built with the same flags pass their own source)
#   --target=wasm32-wasi          WASI's libc (Debian's wasi-libc); capicola answers its host calls
#   -O1 -g                        DWARF, for file:line in reports, backtraces and the debugger
#   -mexec-model=reactor          a library without `main` (a plain build stops at "undefined symbol: main");
#                                 capicola runs its `_initialize` once, before the snapshot inputs reset to
#   --export=LLVMFuzzerTestOneInput   the entry capicola calls with each input
#   --export=malloc --export=free     the input goes into a block of the module's own heap (without them, into
#                                 fresh pages past the end of its memory)
# Nothing is stripped: the name section lets the sanitizer find the allocator and reports name functions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
mkdir -p "$(dirname "$out")"
clang --target=wasm32-wasi -O1 -g -mexec-model=reactor \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "${2:-$here/rec.c}"
mv "$out.partial" "$out"
