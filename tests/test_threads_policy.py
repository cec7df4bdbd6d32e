"""rnnlab's OpenMP threads wait passively unless the user chose otherwise (set before PyTorch starts)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import rnnlab, os, torch; print(os.environ.get('OMP_WAIT_POLICY'))"


def probe(env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_openmp_threads_wait_passively_by_default_and_a_users_choice_stays():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert probe(env) == "PASSIVE"
    assert probe({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
