"""Runtime adapter of the WebAssembly/wasi-testsuite runner for capicola.

The runner (test-runner/wasi_test_runner.py) loads this file as a module and asks it for the runtime's
name, version and WASI versions, then for the command line of each test: `capicola run` with the test's
environment (`--env K=V`), its directory as the guest's root (`--dir HOST::/`, a sandboxed copy), the
module and the test's arguments after `--`. The binary is $CAPICOLA, or `capicola` on the PATH.
"""

import os
import shlex
import subprocess
from typing import Dict, List, Optional, Tuple

CAPICOLA = shlex.split(os.getenv("CAPICOLA", "capicola"))


def get_name() -> str:
    """The runtime's name, as the runner's summary prints it."""
    return "capicola"


def get_version() -> str:
    """The version `capicola --version` prints (`capicola 0.1.0` gives `0.1.0`)."""
    result = subprocess.run(CAPICOLA[0:1] + ["--version"], encoding="UTF-8",
                            capture_output=True, check=True)
    return result.stdout.split()[-1]


def get_wasi_versions() -> List[str]:
    """capicola implements WASI preview 1 only."""
    return ["wasm32-wasip1"]


def get_wasi_worlds() -> List[str]:
    """A preview-1 module is a command."""
    return ["wasi:cli/command"]


def get_timeout_seconds() -> float:
    """Seconds a test may take: an unoptimized build is slower than the runner's default 5."""
    return float(os.getenv("CAPICOLA_TIMEOUT", "30"))


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    """The command line that runs one test."""
    del proposals, wasi_world, wasi_version  # Only preview-1 commands are announced.
    args, env, root = args_env_root
    argv = CAPICOLA + ["run"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    if root:
        argv += ["--dir", f"{root}::/"]
    argv += [test_path, "--"]
    argv += args
    return argv
