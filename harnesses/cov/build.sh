#!/usr/bin/env bash
# Builds the coverage report's test target (tests/tests/cov.rs): build.sh OUT.wasm
# With the example harness's flags (README: "Write your own harness"); its -g gives the line table the report reads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../example/build.sh" "${1:?usage: build.sh OUT.wasm}" "$here/cov.c"
