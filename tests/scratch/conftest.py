"""The NumPy engine's tests multiply tiny matrices: one BLAS thread is faster, and steady on a busy machine."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield
