"""params.yaml: the shipped file is valid, and a bad value fails in one line naming the key, the value and the range."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.params import load_params, params_file
from {{ cookiecutter.package_name }}.user_errors import UserError


def shipped() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(params_file().read_text(encoding="utf-8"))
    return raw


def refused(tmp_path: Path, raw: Any) -> str:
    """The one-line message with which load_params refuses `raw` written as params.yaml."""
    broken = tmp_path / "params.yaml"
    broken.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(UserError) as refusal:
        load_params(broken)
    message = str(refusal.value)
    assert "\n" not in message
    assert "ValidationError" not in message and "pydantic" not in message
    return message


def test_shipped_params_are_valid() -> None:
    params = load_params()
    assert params.task == "{{ cookiecutter.task }}"
    assert 0 < params.split.test_size < 1


def test_an_out_of_range_value_names_the_key_the_value_and_the_range(tmp_path: Path) -> None:
    raw = shipped()
    raw["promote"]["margin"] = -1
    assert refused(tmp_path, raw) == "params.yaml: promote.margin is -1; it must be a number, at least 0"
    raw = shipped()
    raw["split"]["test_size"] = 1.5
    message = refused(tmp_path, raw)
    assert message == "params.yaml: split.test_size is 1.5; it must be a number, greater than 0 and less than 1"


def test_a_value_of_the_wrong_type_says_which_type(tmp_path: Path) -> None:
    raw = shipped()
    raw["split"]["seed"] = "x"
    assert refused(tmp_path, raw) == "params.yaml: split.seed is 'x'; it must be a whole number"


def test_misspelt_key_is_refused_by_name_with_the_close_match(tmp_path: Path) -> None:
    raw = shipped()
    raw["split"]["tset_size"] = raw["split"].pop("test_size")
    message = refused(tmp_path, raw)
    assert message.startswith("params.yaml: split.tset_size is not a known key; did you mean test_size?")
    assert "1 more problem(s): split.test_size" in message


def test_a_missing_section_names_its_keys(tmp_path: Path) -> None:
    raw = shipped()
    del raw["monitor"]
    message = refused(tmp_path, raw)
    assert message.startswith("params.yaml has no monitor section; add it with the keys drift_share, metric_drop")


def test_unknown_task_is_refused_with_the_choices(tmp_path: Path) -> None:
    raw = shipped()
    raw["task"] = "clustering"
    message = refused(tmp_path, raw)
    assert message == "params.yaml: task is 'clustering'; it must be one of 'classification', 'regression'"


def test_broken_yaml_and_an_empty_file_say_where(tmp_path: Path) -> None:
    text = params_file().read_text(encoding="utf-8").replace("  test_size:", " test_size:")
    assert "fix the indentation or quoting there" in refused(tmp_path, text)
    assert "holds no `key: value` sections" in refused(tmp_path, "")
