"""WRMF on Spark MLlib, for likes that outgrow one machine (optional: ``pip install '.[spark]'``).

:class:`SparkALS` fits ``pyspark.ml.recommendation.ALS(implicitPrefs=True)`` from the same
CSR likes matrix (and so the same split) as implicit's ALS, and keeps the factors as
arrays in the matrix's row and column order, so :mod:`recasketch.metrics` scores it
unchanged. :func:`recommend_precision_at_k` scores with Spark's own
``recommendForUserSubset`` instead: top-k lists computed on the cluster, for user sets
whose scores do not fit in one machine's memory.

Where the two objectives differ
-------------------------------
Both minimise a confidence-weighted squared error over *every* (user, item) cell, with
preference ``p_ui = 1`` for a like and ``0`` otherwise:

* implicit: ``sum c_ui (p_ui - x_u.y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2)`` with
  ``c_ui = alpha * r_ui`` for a like (``r_ui`` the matrix's value, 1 for a like) and 1
  elsewhere;
* Spark: the same error with ``c_ui = 1 + alpha_spark * r_ui``, and the penalty
  ``lambda_spark (sum_u n_u |x_u|^2 + sum_i n_i |y_i|^2)``, where ``n_u`` and ``n_i`` are the
  user's and the item's numbers of likes (ALS-WR, "weighted-lambda regularisation").

The confidences agree exactly with ``alpha_spark = alpha - 1``; :class:`SparkALS` takes
implicit's ``alpha`` and converts it. The penalties do not: Spark's grows with activity,
so no ``lambda_spark`` gives implicit's model for every user. A ``lambda_spark`` near
``lambda / mean(n_u)`` gives a similar model on average; :func:`regularization_sweep`
finds the best match by measurement.

Requirements: ``pyspark`` (the ``spark`` extra) and Java 17 or newer (``JAVA_HOME`` or
``java`` on the ``PATH``). Without either, :func:`spark_session` raises
:class:`recasketch.errors.EngineUnavailableError` saying what to install, instead of a
Java stack trace.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from .. import metrics
from ..errors import EngineUnavailableError
from ..ranking import check_sparse
from ..utils import check_count

__all__ = ["MIN_JAVA", "SparkALS", "check_java", "driver_log", "recommend_precision_at_k", "recommend_top_k",
           "regularization_sweep", "spark_session", "stop_spark"]

#: The oldest Java that Spark 4 runs on.
MIN_JAVA = 17

_INSTALL_JAVA = ("install Java {min} or newer (Debian/Ubuntu: `apt-get install openjdk-{min}-jre-headless`; "
                 "conda: `conda env create -f environment.yml` brings `openjdk`) or set JAVA_HOME to its folder")


def _java_version(java: str) -> int | None:
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major  # "1.8" -> 8


def check_java() -> str:
    """The ``java`` executable Spark will start, checked to be Java :data:`MIN_JAVA` or newer.

    Looks where Spark looks: ``$JAVA_HOME/bin/java``, else ``java`` on the ``PATH``.

    Raises
    ------
    recasketch.errors.EngineUnavailableError
        If there is no Java, it does not run, or it is too old; the message says how to
        install one.
    """
    how = _INSTALL_JAVA.format(min=MIN_JAVA)
    home = os.environ.get("JAVA_HOME")
    if home:
        java = str(Path(home) / "bin" / "java")
        if not os.access(java, os.X_OK):
            raise EngineUnavailableError(
                f"Spark needs Java, and JAVA_HOME={home} holds no bin/java: {how}.", engine="spark")
    else:
        java = shutil.which("java")
        if java is None:
            raise EngineUnavailableError(f"Spark needs Java, and none was found (no JAVA_HOME, no `java` on "
                                         f"the PATH): {how}.", engine="spark")
    version = _java_version(java)
    if version is None:
        raise EngineUnavailableError(f"Spark needs Java, and {java} did not run (`{java} -version` failed): {how}.",
                                     engine="spark")
    if version < MIN_JAVA:
        raise EngineUnavailableError(f"Spark needs Java {MIN_JAVA} or newer, and {java} is Java {version}: {how}.",
                                     engine="spark")
    return java


def _import_pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise EngineUnavailableError(
            f"Spark ALS needs pyspark ({err}), the optional extra `spark`: `pip install '.[spark]'` in the "
            "project, or `pip install pyspark` at the version pinned in requirements.lock (`make venv` "
            "installs it).", engine="spark") from None
    return SparkSession


_session = {"spark": None, "tmp": None}

#: The driver's logging: errors only, so a notebook shows Spark's failures, not its start-up chatter.
_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""

# pyspark warns on import that it is not yet tested with pandas 3; nothing here goes through
# its pandas conversions (likes go in as CSV, factors come back with collect()).
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def spark_session(master: str | None = None, driver_memory: str = "4g", shuffle_partitions: int | None = None):
    """A SparkSession: ``local[<cores>]`` here by default, or the cluster at ``master``.

    Started on first use and kept for the Python session (:func:`stop_spark` stops it); a
    later call returns the running session whatever its arguments. Its temporary folder
    ``recasketch-spark-*`` (local dirs, checkpoints, driver log) lasts as long as the session:
    :func:`stop_spark` removes it, and so does a start that fails.

    Parameters
    ----------
    master : str, default=None
        ``"local[2]"``, ``"spark://host:7077"``, ``"yarn"``, ...; ``None`` reads
        ``RECASKETCH_SPARK_MASTER``, else runs locally on every core.
    driver_memory : str, default="4g"
        The driver JVM's heap (in local mode, executors run inside it).
    shuffle_partitions : int, default=None
        ``spark.sql.shuffle.partitions``; ``None``: twice the local cores, or Spark's
        default on a cluster.

    Raises
    ------
    recasketch.errors.EngineUnavailableError
        If pyspark or Java is missing, or the JVM does not start; the message says why.
    """
    if _session["spark"] is not None:
        return _session["spark"]
    SparkSession = _import_pyspark()
    check_java()
    master = master or os.environ.get("RECASKETCH_SPARK_MASTER") or f"local[{os.cpu_count() or 1}]"
    tmp = tempfile.mkdtemp(prefix="recasketch-spark-")
    try:  # every way out of a failed start (an error, KeyboardInterrupt, ...) removes the folder
        spark = _start(_builder(SparkSession, master, driver_memory, shuffle_partitions, tmp), master, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _session.update(spark=spark, tmp=tmp)
    return spark


def _builder(SparkSession, master: str, driver_memory: str, shuffle_partitions: int | None, tmp: str):
    """The session's builder, with its local dirs and its log configuration in ``tmp``.

    Parameters
    ----------
    SparkSession : type
        ``pyspark.sql.SparkSession``.
    master, driver_memory, shuffle_partitions
        As in :func:`spark_session` (``master`` resolved).
    tmp : str
        The session's temporary folder; the log configuration is written into it.

    Returns
    -------
    pyspark.sql.SparkSession.Builder
    """
    log_config = Path(tmp) / "log4j2.properties"
    log_config.write_text(_LOG4J2)
    builder = (SparkSession.builder.master(master).appName("recasketch")
               .config("spark.driver.memory", driver_memory)
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.local.dir", tmp))
    if master.startswith("local"):
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", str(shuffle_partitions or 2 * (os.cpu_count() or 1))))
    elif shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return builder


def _start(builder, master: str, tmp: str):
    """Start the session of ``builder``, the JVM's output going to ``tmp/driver.log``.

    Parameters
    ----------
    builder : pyspark.sql.SparkSession.Builder
        From :func:`_builder`.
    master : str
        The master URL, for the error message.
    tmp : str
        The session's temporary folder (driver log, checkpoints).

    Returns
    -------
    pyspark.sql.SparkSession
        Started, logging errors only, checkpointing into ``tmp``.

    Raises
    ------
    recasketch.errors.EngineUnavailableError
        If the session does not start; the message has the JVM's last words. If the
        session starts but its setup fails, it is stopped and the error raised as it is.
    """
    driver_log = Path(tmp) / "driver.log"
    try:
        with open(driver_log, "ab") as log, _stderr_to(log):  # the JVM keeps this stderr for good
            spark = builder.getOrCreate()
    except Exception as err:  # a gateway that never started: PySparkRuntimeError, Py4JError, ...
        last = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        tail = " | ".join(driver_log.read_text(errors="replace").strip().splitlines()[-3:])
        raise EngineUnavailableError(
            f"Spark did not start at master {master!r} ({type(err).__name__}: {last}; the JVM said: "
            f"{tail or 'nothing'}). Check Java ({_INSTALL_JAVA.format(min=MIN_JAVA)}) and, for a cluster, "
            "that the master is reachable.", engine="spark") from None
    try:
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(os.path.join(tmp, "checkpoints"))
    except BaseException:
        with contextlib.suppress(Exception):  # the setup's error is the one to report
            spark.stop()
        raise
    return spark


@contextlib.contextmanager
def _stderr_to(stream):
    """Point this process's file descriptor 2 at ``stream`` while a child (the JVM) starts, so
    the JVM's start-up chatter (and later its log) goes to a file, not into a notebook."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(stream.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def driver_log() -> Path | None:
    """The file the local Spark driver (JVM) writes its output and errors to, if one is running."""
    return Path(_session["tmp"]) / "driver.log" if _session["tmp"] else None


def stop_spark() -> None:
    """Stop the session :func:`spark_session` started, if any, and remove its temporary folder
    (local dirs, checkpoints, driver log), even if stopping it fails."""
    spark, tmp = _session["spark"], _session["tmp"]
    _session.update(spark=None, tmp=None)
    try:
        if spark is not None:
            spark.stop()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _is_local(spark) -> bool:
    return spark.sparkContext.master.startswith("local")


def _frame(spark, columns: dict, schema: str):
    """A Spark DataFrame of equal-length numpy columns. Locally it goes through a CSV file,
    read by the JVM (no Python worker processes); on a cluster through ``createDataFrame``."""
    frame = pd.DataFrame(columns)
    if not _is_local(spark):
        return spark.createDataFrame(frame, schema=schema)
    folder = tempfile.mkdtemp(prefix="frame-", dir=_session["tmp"] or None)
    frame.to_csv(os.path.join(folder, "part.csv"), header=False, index=False)
    return spark.read.csv(folder, schema=schema)


def _likes_frame(spark, user_items: sp.csr_matrix):
    coo = user_items.tocoo()
    return _frame(spark, {"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                          "rating": coo.data.astype(np.float32)}, "user INT, item INT, rating FLOAT")


class _HeapPeak:
    """The local JVM heap's peak use from now on, above its use now (after a GC)."""

    def __init__(self, spark):
        self.pools = []
        if not _is_local(spark):
            return
        jvm = spark.sparkContext._jvm
        jvm.java.lang.System.gc()
        self.pools = [p for p in jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
                      if p.getType().toString() == "Heap memory"]
        self.before = sum(int(p.getUsage().getUsed()) for p in self.pools)
        for p in self.pools:
            p.resetPeakUsage()

    def peak(self) -> int | None:
        if not self.pools:
            return None
        return max(sum(int(p.getPeakUsage().getUsed()) for p in self.pools) - self.before, 0)

    def retained(self, spark) -> int | None:
        """Heap in use after a full GC, above the use at the start: what the fit keeps."""
        if not self.pools:
            return None
        spark.sparkContext._jvm.java.lang.System.gc()
        return max(sum(int(p.getUsage().getUsed()) for p in self.pools) - self.before, 0)


def _factor_array(frame, n_rows: int, rank: int) -> np.ndarray:
    """Spark's ``(id, features)`` factor frame as an (n_rows, rank) float32 array; rows Spark
    has no factor for (no train likes) are zero."""
    out = np.zeros((n_rows, rank), dtype=np.float32)
    rows = frame.collect()
    if rows:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        out[ids] = np.asarray([r[1] for r in rows], dtype=np.float32)
    return out


class SparkALS:
    """Weighted matrix factorisation for implicit likes, fitted by Spark MLlib's ALS.

    Parameters follow implicit's ``AlternatingLeastSquares`` where they mean the same.

    Parameters
    ----------
    factors : int, default=100
        Rank of the factors (Spark's ``rank``).
    regularization : float, default=0.01
        Spark's ``regParam``: each user's penalty is ``regularization * n_u |x_u|^2``
        (scaled by the user's likes; see the module's docstring), unlike implicit's.
    alpha : float, default=1.0
        implicit's confidence of a like (``c = alpha * r``); Spark is given
        ``alpha - 1`` (its ``c = 1 + alpha_spark * r``), so the weights are the same.
        Must be >= 1.
    iterations : int, default=15
        ALS sweeps (Spark's ``maxIter``).
    random_state : int, default=None
        Spark's ``seed``; ``None`` draws one.
    num_blocks : int, default=None
        Spark's ``numUserBlocks`` and ``numItemBlocks``; ``None`` uses the default
        parallelism of the session.
    spark : pyspark.sql.SparkSession, default=None
        The session to fit in; ``None`` uses :func:`spark_session` (local, or
        ``RECASKETCH_SPARK_MASTER``).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, factors), float32
    item_factors_ : ndarray of shape (n_items, factors), float32
        Rows in the order of the fitted matrix; a user or item without train likes has
        zeros. Also readable as ``user_factors``/``item_factors``, as on implicit's
        models, so :func:`recasketch.metrics.precision_at_k` takes the model as it is.
    model_ : pyspark.ml.recommendation.ALSModel
        Spark's fitted model, for :func:`recommend_precision_at_k`.
    fit_seconds_ : float
        Wall seconds of Spark's ``fit`` alone (not loading the likes, not collecting
        the factors).
    peak_heap_bytes_ : int or None
        In local mode, the JVM heap's peak above what was in use before the likes were
        loaded, up to the end of ``fit`` (the sum of the heap pools' peaks, garbage not
        yet collected included: an upper bound); ``None`` on a cluster, whose executors
        run elsewhere.
    retained_heap_bytes_ : int or None
        In local mode, the heap still in use after a full GC at the end of ``fit``, with
        the likes cached and the factors persisted (what the fit keeps: a lower bound of
        what it needs); ``None`` on a cluster.

    Examples
    --------
    >>> from recasketch.models.spark_als import SparkALS
    >>> model = SparkALS(factors=40, regularization=0.003, alpha=50, random_state=0)  # doctest: +SKIP
    >>> model.fit(train)                                                              # doctest: +SKIP
    >>> precision_at_k(model, test, k=5, users=users)                                 # doctest: +SKIP
    """

    def __init__(self, factors=100, regularization=0.01, alpha=1.0, iterations=15, random_state=None,
                 num_blocks=None, spark=None):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.num_blocks = num_blocks
        self.spark = spark

    @property
    def user_factors(self):
        return getattr(self, "user_factors_", None)

    @property
    def item_factors(self):
        return getattr(self, "item_factors_", None)

    def _check_params(self):
        check_count(self.factors, "factors")
        check_count(self.iterations, "iterations")
        if not self.regularization >= 0:
            raise ValueError(f"regularization must be >= 0, got {self.regularization!r}.")
        if not self.alpha >= 1:
            raise ValueError(
                f"alpha must be >= 1, got {self.alpha!r}: it is implicit's confidence of a like, and Spark's "
                "is 1 + its own alpha (>= 0). For Spark's alpha a, pass a + 1.")

    def fit(self, user_items, show_progress=False):
        """Fit on ``user_items``, a scipy.sparse matrix of shape (n_users, n_items).

        ``show_progress`` is accepted for implicit's signature and ignored. Returns self.
        """
        self._check_params()
        matrix = check_sparse(user_items, "user_items")
        if matrix.nnz == 0:
            raise ValueError("user_items holds no likes; there is nothing to fit.")
        if (matrix.data < 0).any():
            raise ValueError("user_items holds negative values; likes (confidences) must be >= 0.")
        from pyspark.ml.recommendation import ALS

        spark = self.spark or spark_session()
        heap = _HeapPeak(spark)
        likes = _likes_frame(spark, matrix).cache()
        likes.count()  # load it before timing the fit
        blocks = int(self.num_blocks or spark.sparkContext.defaultParallelism)
        seed = int(self.random_state) if self.random_state is not None else int(np.random.SeedSequence().entropy % 2**31)
        als = ALS(rank=int(self.factors), maxIter=int(self.iterations), regParam=float(self.regularization),
                  alpha=float(self.alpha) - 1.0, implicitPrefs=True, seed=seed, userCol="user", itemCol="item",
                  ratingCol="rating", numUserBlocks=blocks, numItemBlocks=blocks)
        start = time.perf_counter()
        self.model_ = als.fit(likes)
        self.fit_seconds_ = time.perf_counter() - start
        self.peak_heap_bytes_ = heap.peak()
        n_users, n_items = matrix.shape
        self.user_factors_ = _factor_array(self.model_.userFactors, n_users, int(self.factors))
        self.item_factors_ = _factor_array(self.model_.itemFactors, n_items, int(self.factors))
        self.retained_heap_bytes_ = heap.retained(spark)  # likes cached, factors persisted
        likes.unpersist()
        return self


def recommend_top_k(model: SparkALS, users, k: int = 5) -> np.ndarray:
    """Spark's ``recommendForUserSubset``: each user's k best items, best first.

    Returns an int array of shape (len(users), k) of item indices (ranked by Spark, on the
    cluster); a user Spark has no factor for gets -1s.
    """
    users = np.asarray(users, dtype=np.int64)
    spark = model.model_.userFactors.sparkSession
    subset = _frame(spark, {"user": users.astype(np.int32)}, "user INT")
    out = np.full((len(users), k), -1, dtype=np.int64)
    position = {int(u): i for i, u in enumerate(users)}
    for row in model.model_.recommendForUserSubset(subset, int(k)).collect():
        items = [r[0] for r in sorted(row[1], key=lambda r: -r[1])]
        out[position[int(row[0])], :len(items)] = items
    return out


def recommend_precision_at_k(model: SparkALS, interactions, k: int = 5, users=None) -> float:
    """Precision@k of Spark's own top-k lists (post 1's protocol: every item ranked).

    For user sets too large to score in one process: the ranking is done by Spark's
    ``recommendForUserSubset`` on the cluster; only the k item indices per user come back.
    On the same factors it equals :func:`recasketch.metrics.precision_at_k` with
    ``exclude=None`` (up to exact ties in the scores).

    Parameters
    ----------
    model : SparkALS
        Fitted.
    interactions : scipy.sparse matrix of shape (n_users, n_items)
        The held-out likes.
    k : int, default=5
    users : array-like of int, default=None
        ``None``: every user with a like in ``interactions``.
    """
    relevant = check_sparse(interactions, "interactions")
    if users is None:
        users = np.flatnonzero(np.diff(relevant.indptr))
    users = np.asarray(users, dtype=np.int64)
    if len(users) == 0:
        raise ValueError("No users to score.")
    top = recommend_top_k(model, users, k)
    rows = relevant[users]
    hits = sum(len(set(top[i][top[i] >= 0]) & set(rows.indices[rows.indptr[i]:rows.indptr[i + 1]]))
               for i in range(len(users)))
    return hits / (k * len(users))


def regularization_sweep(train, test, users, regularizations, factors=40, alpha=50.0, iterations=15,
                         implicit_regularization=0.1, k=5, random_state=0, spark=None) -> pd.DataFrame:
    """Spark's ALS at several ``regParam`` beside implicit's ALS, on one split.

    implicit is fitted with ``implicit_regularization``, and again with another seed
    (``random_state + 1``): how far two fits of the *same* objective lie apart is the
    yardstick. Each Spark model has the same factors, alpha and iterations. For each
    the table gives the test p@k in both protocols and how close the model is to
    implicit's: the mean share of each user's top-k lists (train likes removed) the two
    models agree on.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model`` ("implicit", "implicit, another seed", "Spark"),
        ``regularization``, ``p@k``, ``p@k filtered``, ``top-k overlap`` (1 for implicit
        itself) and ``fit seconds``.
    """
    users = np.asarray(users, dtype=np.int64)

    def implicit_fit(seed):
        model = AlternatingLeastSquares(factors=factors, regularization=implicit_regularization, alpha=alpha,
                                        iterations=iterations, random_state=seed)
        start = time.perf_counter()
        model.fit(sp.csr_matrix(train), show_progress=False)
        return model, time.perf_counter() - start

    implicit_model, implicit_seconds = implicit_fit(random_state)
    reference = _top_k_filtered(implicit_model, train, users, k)

    def row(name, model, seconds, regularization=implicit_regularization):
        top = _top_k_filtered(model, train, users, k)
        return {"model": name, "regularization": regularization,
                "p@k": metrics.precision_at_k(model, test, k, users=users),
                "p@k filtered": metrics.precision_at_k(model, test, k, users=users, exclude=train),
                "top-k overlap": float(np.mean([len(set(a) & set(b)) / k for a, b in zip(top, reference)])),
                "fit seconds": seconds}

    rows = [row("implicit", implicit_model, implicit_seconds)]
    rows.append(row("implicit, another seed", *implicit_fit(random_state + 1)))
    for regularization in regularizations:
        model = SparkALS(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                         random_state=random_state, spark=spark).fit(train)
        rows.append(row("Spark", model, model.fit_seconds_, float(regularization)))
    return pd.DataFrame(rows)


def _top_k_filtered(model, train, users, k, block: int = 1024) -> np.ndarray:
    """Each user's k best items with train likes removed, a block of users at a time
    (ties to the lower index)."""
    user_vectors, item_vectors = metrics.as_factors(model)
    known = sp.csr_matrix(train)[users]
    out = np.empty((len(users), k), dtype=np.int64)
    for start in range(0, len(users), block):
        rows = slice(start, start + block)
        scores = user_vectors[users[rows]] @ item_vectors.T
        seen = known[rows].tocoo()
        scores[seen.row, seen.col] = -np.inf
        out[rows] = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return out
