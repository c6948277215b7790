"""Fixtures of the static infrastructure tests (tests/infra)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tfparse  # noqa: E402


@pytest.fixture(scope="session")
def root():
    """The Terraform root module in infra/."""
    return tfparse.load_module(tfparse.INFRA)


@pytest.fixture(scope="session")
def examples():
    """infra/examples/<name> for every example, parsed."""
    return {name: tfparse.load_module(tfparse.EXAMPLES / name) for name in tfparse.EXAMPLE_NAMES}
