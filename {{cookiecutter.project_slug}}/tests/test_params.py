"""params.yaml: the shipped file is valid, and a typo in it fails with the name of the key."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.params import load_params, params_file


def test_shipped_params_are_valid() -> None:
    params = load_params()
    assert params.task == "{{ cookiecutter.task }}"
    assert 0 < params.split.test_size < 1


def test_misspelt_key_is_refused_by_name(tmp_path: Path) -> None:
    raw = yaml.safe_load(params_file().read_text(encoding="utf-8"))
    raw["split"]["tset_size"] = raw["split"].pop("test_size")
    broken = tmp_path / "params.yaml"
    broken.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValidationError, match="tset_size"):
        load_params(broken)


def test_unknown_task_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(params_file().read_text(encoding="utf-8"))
    raw["task"] = "clustering"
    broken = tmp_path / "params.yaml"
    broken.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValidationError, match="task"):
        load_params(broken)
