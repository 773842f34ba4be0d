"""Config of the Spark path: where the session runs and which stages run as Spark jobs."""

from __future__ import annotations

from typing import Any, Iterator, Literal

from pydantic import Field, field_validator

from graphassoc.data.config import StrictModel


class SparkConfig(StrictModel):
    # True: ingest, cleaning, basket grouping, the time split and the graph's pair counts run as
    # Spark DataFrame jobs (input from any URI Spark reads: path, hdfs://, s3a://, ...).
    # Mining uses Spark when mining.engine=spark, with or without this switch.
    data_jobs: bool = False
    # A Spark master URL: local[*], local[2], spark://host:7077, yarn, k8s://... Under spark-submit
    # the master it was given wins (the session already exists).
    master: str = "local[*]"
    # Passed through to SparkSession.builder.config, e.g. spark.executor.memory: 8g (YAML), or
    # --set spark.conf.spark.executor.memory=8g (the dotted override nests; it is flattened back).
    # A local master's driver (which runs the tasks) gets half the available memory unless
    # spark.driver.memory is set here (graphassoc/spark/session.py: session_conf).
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    app_name: str = "graphassoc"
    # Spark's own log output below this level is hidden, so the CLI's progress stays readable.
    log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "ERROR"

    @field_validator("conf", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        return dict(_flat(value)) if isinstance(value, dict) else value


def _flat(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
