"""The rankers' config section, and the old `evaluate.<key>` names it took over."""

from __future__ import annotations

import pytest
import yaml

from graphassoc.config import Config, load_config
from graphassoc.errors import UsageError
from graphassoc.evaluate.config import EvaluateConfig
from graphassoc.rankers.config import MOVED_FROM_EVALUATE, RankersConfig


def test_every_moved_key_left_evaluate() -> None:
    assert set(MOVED_FROM_EVALUATE) == set(RankersConfig.model_fields)
    assert not set(MOVED_FROM_EVALUATE) & set(EvaluateConfig.model_fields)


def test_old_names_in_a_yaml_file_and_in_set_are_read_with_a_warning(tmp_path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({"evaluate": {"ease_lambdas": [5.0], "draws": 2, "rules_order": "lift"}}))
    with pytest.warns(FutureWarning, match=r"evaluate.ease_lambdas and more moved to rankers.ease_lambdas"):
        cfg = load_config(path, [])
    assert (cfg.rankers.ease_lambdas, cfg.rankers.rules_order, cfg.evaluate.draws) == ([5.0], "lift", 2)
    with pytest.warns(FutureWarning, match=r"--set evaluate.text_neighbours: moved to rankers.text_neighbours"):
        cfg = load_config(None, ["evaluate.text_neighbours=50"])
    assert cfg.rankers.text_neighbours == 50


def test_each_layer_moves_on_its_own_so_the_later_layer_wins() -> None:
    # A new run's config.yaml holds rankers.ease_lambdas; an old-style --set on top of it still wins.
    base = Config().model_dump(mode="json")
    with pytest.warns(FutureWarning):
        assert load_config(None, ["evaluate.ease_lambdas=[9]"], base=base).rankers.ease_lambdas == [9.0]
    # An old run's config.yaml (keys under evaluate) loads silently, and a new --set wins over it.
    old = {"evaluate": {"ease_lambdas": [7.0], "draws": 2}}
    assert Config.model_validate(old).rankers.ease_lambdas == [7.0]
    assert load_config(None, ["rankers.ease_lambdas=[3]"], base=old).rankers.ease_lambdas == [3.0]


def test_a_bad_value_under_either_name_is_one_line() -> None:
    with pytest.raises(UsageError, match=r"config key 'rankers.rules_max_len'"):
        load_config(None, ["rankers.rules_max_len=1"])
    with pytest.raises(UsageError, match=r"unknown config key 'rankers.nope'; valid keys here: rankers.ease_lambdas"):
        load_config(None, ["rankers.nope=1"])
