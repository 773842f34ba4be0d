"""One SparkSession per run: started with the configured master, quiet, stopped on success,
error and Ctrl-C. An already active session (spark-submit, a test fixture) is reused, not stopped."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlparse

from graphassoc.errors import DataError, UsageError
from graphassoc.spark.config import SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_MIN = 17  # pyspark 4
LOG4J2 = Path(__file__).resolve().parent / "log4j2.properties"
# Always set: UTC keeps timestamps as they are in the file (a local time zone would shift them),
# and Arrow makes the driver's collect and createDataFrame columnar.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    # The JVM's start-up lines (before setLogLevel can act) are silenced by this log4j2 file.
    # FPGrowth recurses along its conditional trees (and Java serialization along a tree's nodes):
    # the default 1 MB thread stack overflows on the fixture's long itemsets; 64 MB does not.
    "spark.driver.extraJavaOptions": f"-Xss64m -Dlog4j2.configurationFile={LOG4J2.as_uri()}",
    "spark.executor.extraJavaOptions": "-Xss64m",
}


def import_pyspark() -> Any:
    # PySpark warns about pandas >= 3 on import; this package hands Spark Arrow tables, not pandas.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        import pyspark
    except ImportError:
        raise UsageError('Spark is not installed; install the extra: pip install "graphassoc[spark]"') from None
    return pyspark


def check_java() -> None:
    """Spark 4 runs on Java 17 or later: found and new enough, or one line saying what to install."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home and (Path(java_home) / "bin" / "java").is_file() \
        else shutil.which("java")
    if java is None:
        raise UsageError(f"Spark needs Java {JAVA_MIN} or later and none was found (no JAVA_HOME, no java on PATH); "
                         f"install a JDK (e.g. apt-get install openjdk-{JAVA_MIN}-jre-headless) or set JAVA_HOME")
    try:
        said = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"Java at {java} does not run ({exc}); fix the JDK or set JAVA_HOME") from None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', said)
    major = (int(found.group(2) or 0) if found.group(1) == "1" else int(found.group(1))) if found else JAVA_MIN
    if major < JAVA_MIN:
        raise UsageError(f"Spark needs Java {JAVA_MIN} or later; {java} is Java {major}; install a newer JDK "
                         "and point JAVA_HOME at it")


def check_master(master: str) -> None:
    """A standalone master (spark://host:port[,host:port]) that nobody answers would make Spark retry for
    a minute before failing; a plain TCP connect says so in a second."""
    if not master.startswith("spark://"):
        return
    for hostport in master.removeprefix("spark://").split(","):
        parsed = urlparse(f"spark://{hostport}")
        try:
            with socket.create_connection((parsed.hostname or "", parsed.port or 7077), timeout=5):
                return
        except (OSError, ValueError) as exc:
            reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
    raise UsageError(f"Spark master '{master}' is unreachable ({reason}); check spark.master "
                     "(e.g. --set spark.master=local[*] runs Spark on this machine)")


def submitted() -> bool:
    """Run by spark-submit: its JVM is up and its --master / --conf hold (PySpark's launcher sets this)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def active_session() -> "SparkSession | None":
    import_pyspark()
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def session_conf(cfg: SparkConfig) -> dict[str, str]:
    """The settings a new session starts with: the package's defaults, then the user's spark.conf.

    A local master runs every task inside the driver's JVM, whose heap Spark leaves at 1 GB unless told:
    the x16 replication (8.3M lines) ran out of it in the graph's pair counts. Half of the memory
    available now is given instead, unless spark.conf sets spark.driver.memory (a cluster's driver
    only collects results: its default stays Spark's)."""
    conf = {**DEFAULT_CONF}
    if cfg.master.startswith("local"):
        from graphassoc.memory import available_bytes

        conf["spark.driver.memory"] = f"{max(1, int(available_bytes() / 2 / 2**30))}g"
    return {**conf, **{k: str(v) for k, v in cfg.conf.items()}}


@contextlib.contextmanager
def spark_session(cfg: SparkConfig | None = None) -> Iterator["SparkSession"]:
    """The active session if there is one (left running), else a new one stopped on leaving."""
    cfg = cfg or SparkConfig()
    existing = active_session()
    if existing is not None:
        with spark_errors():
            yield existing
        return
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(cfg.app_name)
    if not submitted():
        check_java()
        check_master(cfg.master)
        builder = builder.master(cfg.master)
    for key, value in session_conf(cfg).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # py4j / pyspark raise many kinds; the first line names the cause
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(f"cannot start Spark with master '{cfg.master}': {first}; check spark.master, "
                         "spark.conf and that Java 17+ runs (java -version)") from None
    try:
        spark.sparkContext.setLogLevel(cfg.log_level)
        with spark_errors():
            yield spark
    finally:
        spark.stop()


@contextlib.contextmanager
def spark_errors() -> Iterator[None]:
    """A failed Spark job (an executor lost, a JVM error) as one line instead of a Java stack trace."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (Py4JError, PySparkException) as exc:
        first, whole = type(exc).__name__, ""
        with contextlib.suppress(Exception):  # py4j's str() fails once the JVM is gone
            java = getattr(exc, "java_exception", None)  # Py4JJavaError: the Java exception names the cause
            first = (str(java.toString() if java is not None else exc).strip().splitlines() or [first])[0]
            whole = str(exc)
        if "OutOfMemoryError" in whole or "OutOfMemoryError" in first:  # the cause sits below "awaitResult"
            raise DataError("a Spark job ran out of Java heap; raise spark.conf.spark.driver.memory (a local "
                            "master runs the tasks in the driver) or spark.conf.spark.executor.memory "
                            "(a cluster), e.g. --set spark.conf.spark.driver.memory=16g") from None
        raise DataError(f"a Spark job failed: {first}; see the Spark logs (--set spark.log_level=WARN) and "
                        "spark.conf (e.g. executor memory)") from None


def spark_for_mining(engine: str, cfg: SparkConfig) -> contextlib.AbstractContextManager[Any]:
    """The session around a single-machine build whose mining engine is Spark (else nothing)."""
    return spark_session(cfg) if engine == "spark" else contextlib.nullcontext()
