"""One local[2] SparkSession for all Spark tests (the JVM takes seconds to start); skipped, with
the reason, where pyspark or Java is missing."""

from __future__ import annotations

from typing import Iterator

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from graphassoc.errors import UsageError
    from graphassoc.spark.config import SparkConfig
    from graphassoc.spark.session import check_java, spark_session

    try:
        check_java()
    except UsageError as err:
        pytest.skip(str(err))
    cfg = SparkConfig(master="local[2]", conf={"spark.sql.shuffle.partitions": 4,
                                               "spark.default.parallelism": 2})
    with spark_session(cfg) as session:
        yield session
