import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import requests


@pytest.fixture
def session():
    """A requests session for the loopback-server tests (tests/loopback.py)."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy between the test and its loopback server
        yield session
