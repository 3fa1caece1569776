#!/usr/bin/env bash
# Builds the coverage report's test target (tests/tests/cov.rs): build.sh OUT.wasm
# Flags as for harnesses/example (README: "Write your own harness"); -g gives the line table the report reads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm}"
mkdir -p "$(dirname "$out")"
clang --target=wasm32-wasi -O1 -g -mexec-model=reactor \
  -Wl,--export=LLVMFuzzerTestOneInput -Wl,--export=malloc -Wl,--export=free \
  -o "$out.partial" "$here/cov.c"
mv "$out.partial" "$out"
