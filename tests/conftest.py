"""Shared test setup: ember importable from a checkout, and clean global state around every test."""

from __future__ import annotations

import pathlib
import sys

import pytest

_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(_ROOT))

import ember  # noqa: E402


def pytest_configure(config):
    # ember ignores NumPy's floating-point RuntimeWarnings raised in its own frames (NOTE [ floating-point
    # warnings ] in ember/ops/_base.py); pytest resets warning filters per test, so say it again here
    config.addinivalue_line("filterwarnings", r"ignore::RuntimeWarning:ember\.")


@pytest.fixture(autouse=True)
def _clean_global_state():
    """Every test starts with grad mode on and float32 as the default dtype, and leaves them so."""
    from ember.autograd.grad_mode import STATE

    STATE.enabled, STATE.inference = True, False
    ember.set_default_dtype(ember.float32)
    yield
    STATE.enabled, STATE.inference = True, False
    ember.set_default_dtype(ember.float32)
