"""Which card the service shows: monitor's refreshed copy when it is the served version's, else the loaded one."""

from pathlib import Path

from {{ cookiecutter.package_name }}.io.served_card import FoundCard, served_card


def latest_card(root: Path, text: str) -> None:
    (root / "latest").mkdir(parents=True, exist_ok=True)
    (root / "latest" / "MODEL_CARD.md").write_text(text, encoding="utf-8")


def test_monitors_copy_wins_when_it_names_the_served_run(tmp_path: Path) -> None:
    latest_card(tmp_path, "status: fresh\n- **Registered version**: 4, MLflow run `abc123`\n")
    found = served_card(tmp_path, "abc123", "status: as loaded")
    assert found == FoundCard("status: fresh\n- **Registered version**: 4, MLflow run `abc123`\n", "monitoring")


def test_another_versions_copy_is_ignored(tmp_path: Path) -> None:
    latest_card(tmp_path, "- **Registered version**: 3, MLflow run `old999`\n")
    assert served_card(tmp_path, "abc123", "as loaded") == FoundCard("as loaded", "registry")


def test_no_monitoring_run_yet_gives_the_loaded_card(tmp_path: Path) -> None:
    assert served_card(tmp_path, "abc123", "as loaded") == FoundCard("as loaded", "registry")


def test_no_card_anywhere_is_none(tmp_path: Path) -> None:
    assert served_card(tmp_path, "abc123", None) is None
    assert served_card(tmp_path, None, None) is None
