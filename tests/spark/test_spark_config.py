"""The spark config section: dotted --set overrides of Spark settings, the switch, one-line errors."""

from __future__ import annotations

import pytest

from graphassoc.config import load_config
from graphassoc.errors import UsageError


def test_dotted_spark_settings_are_flattened() -> None:
    cfg = load_config(None, ["spark.conf.spark.executor.memory=8g", "spark.conf.spark.sql.shuffle.partitions=8",
                             "spark.data_jobs=true", "spark.master=spark://head:7077"])
    assert cfg.spark.conf == {"spark.executor.memory": "8g", "spark.sql.shuffle.partitions": 8}
    assert cfg.spark.data_jobs and cfg.spark.master == "spark://head:7077"
    assert load_config(None, []).spark.data_jobs is False  # the single-machine path stays the default


def test_unknown_spark_key_lists_valid_ones() -> None:
    with pytest.raises(UsageError, match="unknown config key 'spark.mastr'; valid keys here: spark.data_jobs, spark.master"):
        load_config(None, ["spark.mastr=local"])
