"""The whole configuration: one pydantic model per stage, YAML files plus dotted `--set` overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from graphassoc.data.config import CleanConfig, DataConfig, SplitConfig, StrictModel
from graphassoc.errors import UsageError
from graphassoc.evaluate.config import EvaluateConfig
from graphassoc.export.config import ExportConfig
from graphassoc.graph.config import GraphConfig
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.mining.config import MiningConfig
from graphassoc.model.config import TrainConfig
from graphassoc.recommend.config import RecommendConfig
from graphassoc.spark.config import SparkConfig
from graphassoc.serve.config import ServeConfig
from graphassoc.drift.config import DriftConfig
from graphassoc.text.config import TextConfig
from graphassoc.users.config import UsersConfig
from graphassoc.rankers.config import RankersConfig, upgrade_keys, upgrade_override

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class Config(StrictModel):
    # None draws a seed at run time; the drawn seed is stored in meta.json and config.yaml.
    seed: int | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    mining: MiningConfig = Field(default_factory=MiningConfig)
    graph: GraphConfig = Field(default_factory=GraphConfig)
    ease: EaseConfig = Field(default_factory=EaseConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    recommend: RecommendConfig = Field(default_factory=RecommendConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    users: UsersConfig = Field(default_factory=UsersConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    rankers: RankersConfig = Field(default_factory=RankersConfig)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        # A run directory written before the rankers' keys left `evaluate` still loads (silently).
        return upgrade_keys(data, "") if isinstance(data, dict) else data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _valid_keys(model: type[BaseModel], prefix: str) -> list[str]:
    return [f"{prefix}{name}" for name in model.model_fields]


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in path:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _explain(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc)
    if first["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        prefix = ".".join(str(p) for p in loc[:-1])
        valid = _valid_keys(parent, f"{prefix}." if prefix else "") if parent else []
        return f"unknown config key '{key}'; valid keys here: {', '.join(valid)}"
    msg = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict) and "input" in first else ""
    return f"config key '{key}': {msg}{shown}" if key else f"config: {msg}"


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"--set {dotted}: '{part}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise UsageError(f"--set '{text}' is not KEY=VALUE, e.g. --set mining.min_support=0.01")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def read_yaml(path: Path, what: str, fix: str) -> dict[str, Any]:
    """The YAML mapping in `path`; anything else (bad YAML, binary, a list) is one UsageError line
    naming the file (`what`, e.g. "config file") and what to do (`fix`)."""
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:  # a binary file is not UTF-8
        raise UsageError(f"{what} '{path}' is not valid YAML ({str(exc).splitlines()[0]}); {fix}") from None
    if not isinstance(loaded, dict):
        raise UsageError(f"{what} '{path}' holds a {type(loaded).__name__}, not a mapping; {fix}")
    return loaded


RUN_CONFIG_FIX = "restore it, or rebuild the run with `graphassoc build-graph`"


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                base: dict[str, Any] | None = None) -> Config:
    """Config from defaults <- base dict (e.g. a run's config.yaml) <- YAML file <- `--set` overrides."""
    tree: dict[str, Any] = upgrade_keys(dict(base or {}), "")
    if path is not None:
        p = Path(path)
        if not p.is_file() and (CONFIG_DIR / f"{path}.yaml").is_file():
            p = CONFIG_DIR / f"{path}.yaml"  # a preset name: --config online_retail
        if not p.is_file():
            presets = ", ".join(sorted(f.stem for f in CONFIG_DIR.glob("*.yaml")))
            raise UsageError(f"config file '{path}' not found; give a YAML path or a preset ({presets})")
        loaded = read_yaml(p, "config file", "it must hold a mapping of sections, e.g. 'mining: {min_support: 0.01}'")
        tree = _merge(tree, upgrade_keys(loaded, f"config file '{p}'"))
    for item in overrides or []:
        key, value = parse_override(item)
        key = upgrade_override(key)
        _set_dotted(tree, key, value)
    try:
        return Config.model_validate(tree)
    except ValidationError as err:
        raise UsageError(_explain(err)) from None


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def validate_section(model: type[StrictModel], **values: Any) -> StrictModel:
    """Validate one stage's values (e.g. CLI options) with the same one-line errors as load_config."""
    try:
        return model.model_validate(values)
    except ValidationError as err:
        raise UsageError(_explain(err)) from None


def load_run_config(run_dir: str | Path, path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """A later stage's config: the run's resolved config.yaml <- YAML file <- `--set` overrides."""
    from graphassoc.runs import require_run

    run = require_run(Path(run_dir), "config.yaml")
    return load_config(path, overrides, base=read_yaml(run / "config.yaml", "run config", RUN_CONFIG_FIX))
