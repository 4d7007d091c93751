"""WRMF on Spark MLlib: factors scored by our metrics, equal to Spark's own top-k; the
objective Spark solves (ALS-WR) checked against its normal equations; clear errors
without Java or pyspark."""

import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

from recasketch import metrics
from recasketch.errors import EngineUnavailableError
from recasketch.split import train_test_split

spark_als = pytest.importorskip("recasketch.models.spark_als")


def java_missing() -> str | None:
    try:
        spark_als.check_java()
    except EngineUnavailableError as err:
        return str(err)
    return None


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if java_missing():
        pytest.skip(java_missing())
    session = spark_als.spark_session(master="local[2]", driver_memory="1g")
    yield session
    spark_als.stop_spark()


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    dense = np.zeros((120, 90), dtype=np.float32)
    dense[:60, :45] = rng.random((60, 45)) < 0.3
    dense[60:, 45:] = rng.random((60, 45)) < 0.3
    dense[rng.random(dense.shape) < 0.03] = 1
    return train_test_split(sp.csr_matrix(dense), 3, 0.4, random_state=0)


@pytest.fixture(scope="module")
def fitted(spark, split):
    train, _, _ = split
    return spark_als.SparkALS(factors=6, regularization=0.05, alpha=20, iterations=6, random_state=1,
                              spark=spark).fit(train)


def test_factors_score_through_our_metrics_and_equal_sparks_own_top_k(fitted, split):
    train, test, users = split
    assert fitted.user_factors.shape == (120, 6) and fitted.item_factors.shape == (90, 6)
    assert fitted.user_factors.dtype == np.float32 and np.isfinite(fitted.user_factors).all()
    assert fitted.fit_seconds_ > 0 and fitted.peak_heap_bytes_ >= fitted.retained_heap_bytes_ >= 0
    ours = metrics.precision_at_k(fitted, test, k=5, users=users)
    assert 0 < ours <= 1
    assert spark_als.recommend_precision_at_k(fitted, test, k=5, users=users) == pytest.approx(ours, abs=1e-12)
    # the lists themselves: Spark's ranking equals the factors' dot products
    top = spark_als.recommend_top_k(fitted, users, k=5)
    scores = fitted.user_factors[users] @ fitted.item_factors.T
    assert (np.take_along_axis(scores, top, axis=1) >= np.sort(scores, axis=1)[:, -5:][:, :1] - 1e-5).all()
    assert (np.diff(np.take_along_axis(scores, top, axis=1), axis=1) <= 1e-6).all()  # best first
    # the filtered protocol scores too, above a random ranking (3 test likes among about 78 unseen items)
    assert metrics.precision_at_k(fitted, test, k=5, users=users, exclude=train) > 3 / 78


def test_a_seed_gives_the_same_model(fitted, spark, split):
    train, _, _ = split
    again = spark_als.SparkALS(factors=6, regularization=0.05, alpha=20, iterations=6, random_state=1,
                               spark=spark).fit(train)
    np.testing.assert_allclose(again.user_factors, fitted.user_factors, rtol=1e-5, atol=1e-6)


def solve_users(item_factors, train, alpha, lam, weighted):
    """Each user's least-squares factors given the items', in Spark's (weighted) or
    implicit's (constant) regularisation, Spark's confidences ``1 + (alpha - 1) r``."""
    yty = item_factors.T.astype(np.float64) @ item_factors
    out = np.zeros((train.shape[0], item_factors.shape[1]))
    for u in range(train.shape[0]):
        items = train.indices[train.indptr[u]:train.indptr[u + 1]]
        if len(items) == 0:
            continue
        y = item_factors[items].astype(np.float64)
        confidence = 1 + (alpha - 1) * train.data[train.indptr[u]:train.indptr[u + 1]]
        a = yty + (y.T * (confidence - 1)) @ y + lam * (len(items) if weighted else 1) * np.eye(y.shape[1])
        out[u] = np.linalg.solve(a, (y.T * confidence).sum(axis=1))
    return out


def test_spark_solves_alsw_r_with_lambda_scaled_by_each_users_likes(fitted, split):
    train, _, _ = split
    train = sp.csr_matrix(train)
    # Spark's last half-sweep solves the users given the items: its factors satisfy the
    # normal equations with lambda * n_u, not with implicit's constant lambda.
    weighted = solve_users(fitted.item_factors, train, 20, 0.05, weighted=True)
    constant = solve_users(fitted.item_factors, train, 20, 0.05, weighted=False)
    np.testing.assert_allclose(fitted.user_factors, weighted, rtol=2e-3, atol=2e-4)
    assert np.abs(fitted.user_factors - constant).max() > 100 * np.abs(fitted.user_factors - weighted).max()


def test_guards(spark, split):
    train, _, _ = split
    with pytest.raises(ValueError, match=r"alpha must be >= 1.*For Spark's alpha a, pass a \+ 1"):
        spark_als.SparkALS(alpha=0.5, spark=spark).fit(train)
    with pytest.raises(ValueError, match="factors must be an integer >= 1"):
        spark_als.SparkALS(factors=0, spark=spark).fit(train)
    with pytest.raises(ValueError, match="holds no likes"):
        spark_als.SparkALS(spark=spark).fit(sp.csr_matrix((3, 4)))


def test_java_checks_say_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(EngineUnavailableError, match=r"JAVA_HOME=.* holds no bin/java: install Java 17"):
        spark_als.check_java()
    old = tmp_path / "bin" / "java"
    old.parent.mkdir()
    old.write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(EngineUnavailableError, match=r"needs Java 17 or newer, and .*bin/java is Java 11") as info:
        spark_als.check_java()
    assert info.value.engine == "spark"
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EngineUnavailableError, match=r"no JAVA_HOME, no `java` on the PATH.*apt-get install openjdk-17"):
        spark_als.check_java()


def run_python(code, env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=300)


def test_no_java_is_a_clear_error_not_a_java_stack_trace(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = os.path.dirname(sys.executable)  # python, but no java
    done = run_python("""
        import numpy as np, scipy.sparse as sp
        from recasketch.models.spark_als import SparkALS
        SparkALS(factors=2).fit(sp.csr_matrix(np.eye(3)))
    """, env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("recasketch.errors.EngineUnavailableError: Spark needs Java, and none was found")
    assert "py4j" not in done.stderr and "java.lang" not in done.stderr and "Gateway" not in done.stderr


def test_no_pyspark_says_to_install_the_extra():
    done = run_python("""
        import sys
        sys.modules["pyspark"] = None  # as if it were not installed
        from recasketch.models.spark_als import spark_session
        spark_session()
    """, dict(os.environ))
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("recasketch.errors.EngineUnavailableError: Spark ALS needs pyspark")
    assert "pip install '.[spark]'" in last


def test_spark_fit_cost(spark, split):
    from recasketch.study.scaling import spark_fit_cost

    train, _, _ = split
    cost = spark_fit_cost(train, iterations=(1, 3), factors=4, spark=spark, alpha=10)
    assert cost.seconds_per_iteration >= 0 and cost.peak_bytes > 0 and cost.retained_bytes is not None
    log = spark_als.driver_log()
    assert log is not None and log.exists()  # the JVM's output goes to a file, not to the console


@pytest.fixture
def no_session(tmp_path, monkeypatch):
    """No running session, and temporary folders made under ``tmp_path/tmp`` (returned)."""
    monkeypatch.setattr(spark_als, "_session", {"spark": None, "tmp": None})
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    return tmp


class FakeSpark:
    """A session whose setup fails, or whose stop fails, for the clean-up tests."""

    def __init__(self, fail_setup=False, fail_stop=False):
        self.fail_setup, self.fail_stop, self.stopped = fail_setup, fail_stop, False
        self.sparkContext = self

    def setLogLevel(self, level):
        pass

    def setCheckpointDir(self, folder):
        if self.fail_setup:
            raise RuntimeError("no checkpoints")

    def stop(self):
        self.stopped = True
        if self.fail_stop:
            raise RuntimeError("did not stop")


def test_a_failed_start_leaves_no_temporary_folder(no_session, monkeypatch):
    pytest.importorskip("pyspark")
    from pyspark.sql.session import SparkSession

    monkeypatch.setenv("JAVA_HOME", str(no_session / "no-java"))  # Java missing: checked before any folder
    with pytest.raises(EngineUnavailableError, match="holds no bin/java"):
        spark_als.spark_session(master="local[1]")
    assert list(no_session.iterdir()) == []
    monkeypatch.setattr(spark_als, "check_java", lambda: "java")

    def refuse(builder):
        raise RuntimeError("Java gateway process exited before sending its port number")

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", refuse)  # the JVM does not start
    with pytest.raises(EngineUnavailableError, match=r"Spark did not start at master 'spark://127.0.0.1:1' "
                                                     r"\(RuntimeError: Java gateway process exited") as info:
        spark_als.spark_session(master="spark://127.0.0.1:1")
    assert info.value.engine == "spark"
    assert list(no_session.glob("recasketch-spark-*")) == []
    fake = FakeSpark(fail_setup=True)  # started, then its setup fails: stopped, folder removed
    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", lambda builder: fake)
    with pytest.raises(RuntimeError, match="no checkpoints"):
        spark_als.spark_session(master="local[1]")
    assert fake.stopped and list(no_session.glob("recasketch-spark-*")) == []
    assert spark_als.driver_log() is None


def test_stop_spark_removes_the_sessions_folder_even_if_stop_fails(no_session, monkeypatch):
    pytest.importorskip("pyspark")
    from pyspark.sql.session import SparkSession

    monkeypatch.setattr(spark_als, "check_java", lambda: "java")
    fake = FakeSpark(fail_stop=True)
    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", lambda builder: fake)
    assert spark_als.spark_session(master="local[1]") is fake
    assert len(list(no_session.glob("recasketch-spark-*"))) == 1 and spark_als.driver_log().parent.exists()
    with pytest.raises(RuntimeError, match="did not stop"):
        spark_als.stop_spark()
    assert fake.stopped and list(no_session.glob("recasketch-spark-*")) == []
    assert spark_als.driver_log() is None
