from pathlib import Path

import pytest
import yaml

from graphassoc.config import CONFIG_DIR, Config, load_config
from graphassoc.errors import UsageError


def test_every_shipped_preset_validates() -> None:
    presets = sorted(CONFIG_DIR.glob("*.yaml"))
    assert {p.stem for p in presets} >= {"default", "online_retail"}
    for path in presets:
        assert isinstance(load_config(path), Config)


def test_file_then_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"mining": {"min_support": 0.02, "max_len": 2}, "seed": 5}))
    cfg = load_config(path, ["mining.min_support=0.03", "data.columns.basket_id=Order", "split.valid_start=2011-09-01"])
    assert cfg.mining.min_support == 0.03 and cfg.mining.max_len == 2 and cfg.seed == 5
    assert cfg.data.columns == {"basket_id": "Order"}
    assert str(cfg.split.valid_start) == "2011-09-01"


def test_resolved_config_round_trips() -> None:
    cfg = load_config("online_retail", ["seed=1"])
    again = Config.model_validate(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


@pytest.mark.parametrize("content,message", [
    ({"mining": {"min_suport": 0.1}}, "unknown config key 'mining.min_suport'; valid keys here: mining.engine"),
    ({"split": {"valid_fraction": 0.6, "test_fraction": 0.5}}, "must be below 1"),
    ([1, 2], "must hold a mapping"),
])
def test_bad_config_file(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_bad_override_and_missing_file() -> None:
    with pytest.raises(UsageError, match="not KEY=VALUE"):
        load_config(overrides=["mining.min_support"])
    with pytest.raises(UsageError, match="not found; give a YAML path or a preset"):
        load_config("no_such_preset")
