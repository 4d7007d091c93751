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


@pytest.fixture(scope="module")
def client():
    """A 2-worker Dask LocalCluster (one per test module: the fault tests kill its workers)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as local, distributed.Client(local, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def split():
    """A small likes matrix, two blocks of users and models (so there is something to learn) with
    a little noise, split per user: (train, test, users)."""
    import numpy as np
    import scipy.sparse as sp

    from recasketch.split import train_test_split

    rng = np.random.default_rng(0)
    dense = np.zeros((80, 60), dtype=np.float32)
    dense[:40, :30] = rng.random((40, 30)) < 0.4
    dense[40:, 30:] = rng.random((40, 30)) < 0.4
    dense[rng.random(dense.shape) < 0.03] = 1
    return train_test_split(sp.csr_matrix(dense), 3, 0.3, random_state=0)


@pytest.fixture(scope="module")
def validation_split():
    """Two blocks of users and models with a little noise, split three ways per user:
    (train, validation, test, users)."""
    import numpy as np
    import scipy.sparse as sp

    from recasketch.split import train_validation_test_split

    rng = np.random.default_rng(0)
    dense = np.zeros((90, 50), dtype=np.float32)
    dense[:45, :25] = rng.random((45, 25)) < 0.45
    dense[45:, 25:] = rng.random((45, 25)) < 0.45
    dense[rng.random(dense.shape) < 0.03] = 1
    return train_validation_test_split(sp.csr_matrix(dense), 3, 0.4, random_state=0)
