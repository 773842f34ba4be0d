"""One local[2] SparkSession for all Spark tests (the JVM takes seconds to start); skipped, with
the reason, where pyspark or Java is missing."""

from __future__ import annotations

import shutil
from typing import Iterator

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from graphassoc.spark.config import SparkConfig
    from graphassoc.spark.session import spark_session

    if shutil.which("java") is None:
        pytest.skip("Java is not installed (Spark needs Java 17+)")
    cfg = SparkConfig(master="local[2]", conf={"spark.sql.shuffle.partitions": 4,
                                               "spark.default.parallelism": 2})
    with spark_session(cfg) as session:
        yield session
