#!/bin/sh
# Runs the WASI preview-1 tests of a checkout of WebAssembly/wasi-testsuite (its C, Rust and
# AssemblyScript folders, as built on the branch prod/testsuite-base) through `capicola run`, and prints
# the runner's report and summary.
#
#   tests/wasi-testsuite/run.sh SUITE_DIR
#
# The binary is target/release/capicola of this repository (`cargo build --release -p capicola`), or
# $CAPICOLA. The runner needs Python 3.12 or later ($PYTHON, else python3.13, python3.12 or python3
# from the PATH, whichever is recent enough).
# Exits with the runner's status: 0 when every test passed.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 SUITE_DIR" >&2
    exit 2
fi
suite=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CAPICOLA=${CAPICOLA:-$repo/target/release/capicola}
if [ ! -x "$CAPICOLA" ]; then
    echo "$0: no binary at $CAPICOLA (cargo build --release -p capicola, or set CAPICOLA)" >&2
    exit 2
fi
export CAPICOLA
if [ -z "${PYTHON:-}" ]; then
    for candidate in python3.13 python3.12 python3; do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [ -z "${PYTHON:-}" ]; then
    echo "$0: the runner needs Python 3.12 or later (set PYTHON)" >&2
    exit 2
fi
cd "$suite/test-runner"
exec "$PYTHON" wasi_test_runner.py --disable-colors -r "$here/adapter.py" -t \
    "$suite/tests/c/testsuite/wasm32-wasip1" \
    "$suite/tests/rust/testsuite/wasm32-wasip1" \
    "$suite/tests/assemblyscript/testsuite/wasm32-wasip1"
