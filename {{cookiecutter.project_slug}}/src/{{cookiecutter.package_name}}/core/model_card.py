"""A model card in the Hugging Face layout (YAML metadata, then Markdown sections), rendered from facts; no I/O."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from ..params import Task
from .features import Kind, as_text
from .metrics import score
from .monitoring import Summary
from .schema import Expectations

CARD = "MODEL_CARD.md"
# Hugging Face's license identifiers for the template's license choices.
HF_LICENSES = {"MIT": "mit", "Apache-2.0": "apache-2.0", "BSD-3-Clause": "bsd-3-clause"}
# A category with fewer test rows than this is listed with its count but not scored: its metrics would be noise.
MIN_SLICE_ROWS = 5
MONITORING_START, MONITORING_END = "<!-- monitoring:start -->", "<!-- monitoring:end -->"


@dataclass(frozen=True)
class Slice:
    """Test metrics on the rows of one category of one categorical feature."""

    feature: str
    category: str
    rows: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class Registration:
    """Where the card's model lives in MLflow; only the copy logged to the run carries it (see render_card)."""

    version: str
    run_id: str
    tags: dict[str, str]


@dataclass(frozen=True)
class CardFacts:
    """Everything a card states, gathered by the evaluate stage from the pipeline's own files."""

    model_name: str
    description: str
    license: str
    task: Task
    target: str
    family: str
    hyperparameters: dict[str, Any]
    source: str
    rows: dict[str, int]
    hashes: dict[str, str]
    expectations: Expectations
    test_metrics: dict[str, float]
    slices: list[Slice] = field(default_factory=list)


def slice_metrics(
    task: Task, model: Any, features: pd.DataFrame, actual: pd.Series, kinds: Mapping[str, Kind]
) -> list[Slice]:
    """Each categorical feature's categories on the test split, with the task's metrics where there are enough rows."""
    found = []
    for name in sorted(column for column, kind in kinds.items() if kind == "categorical"):
        values = as_text(features[name]).fillna("(missing)")
        for category in sorted(values.unique()):
            rows = values == category
            metrics = score(task, model, features[rows], actual[rows]) if rows.sum() >= MIN_SLICE_ROWS else {}
            found.append(Slice(name, str(category), int(rows.sum()), {k: round(v, 6) for k, v in metrics.items()}))
    return found


def metadata(facts: CardFacts) -> dict[str, Any]:
    """The YAML front matter: license, tags and a model-index of the test metrics (Hugging Face's card metadata)."""
    hf_task = "tabular-classification" if facts.task == "classification" else "tabular-regression"
    return {
        "license": HF_LICENSES.get(facts.license, "other"),
        "library_name": "sklearn",
        "tags": ["tabular", facts.task, "mlflow", "dvc"],
        "pipeline_tag": hf_task,
        "model-index": [
            {
                "name": facts.model_name,
                "results": [
                    {
                        "task": {"type": hf_task},
                        "dataset": {"name": facts.source, "type": "tabular", "split": "test"},
                        "metrics": [
                            {"type": name, "value": value, "name": f"test {name}"}
                            for name, value in sorted(facts.test_metrics.items())
                        ],
                    }
                ],
            }
        ],
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]


def _expectation_rows(expectations: Expectations) -> list[list[str]]:
    rows = []
    for name, column in expectations.features.items():
        if column.kind == "numeric":
            allowed = f"{column.minimum:.6g} to {column.maximum:.6g}" if column.minimum is not None else "any number"
        else:
            allowed = ", ".join(column.categories) if column.categories else "any text"
        rows.append([f"`{name}`", column.kind, allowed, f"{column.max_missing:.0%}"])
    return rows


def _slice_lines(facts: CardFacts) -> list[str]:
    if not facts.slices:
        return ["The data has no categorical feature, so there are no per-slice metrics: every row is one slice."]
    names = sorted(facts.test_metrics)
    rows = [
        [f"`{s.feature}`", s.category, str(s.rows), *[f"{s.metrics[n]:.4f}" if n in s.metrics else "-" for n in names]]
        for s in facts.slices
    ]
    note = f"A category with fewer than {MIN_SLICE_ROWS} test rows is counted, not scored (-)."
    return [*_table(["feature", "category", "test rows", *names], rows), "", note]


def render_card(facts: CardFacts, registration: Registration | None = None, monitoring: str | None = None) -> str:
    """The card's Markdown. Without a registration it holds nothing that changes between identical runs, so the
    pipeline's copy (models/MODEL_CARD.md) is byte-identical after `dvc repro --force`, which registers a new version.
    """
    front = yaml.safe_dump(metadata(facts), sort_keys=False, allow_unicode=True)
    hyper = json.dumps(facts.hyperparameters, sort_keys=True) if facts.hyperparameters else "the family's defaults"
    lines = [
        "---",
        front.rstrip("\n"),
        "---",
        "",
        f"# Model card: {facts.model_name}",
        "",
        "## Model details",
        "",
        f"- **Task**: {facts.task}, predicting `{facts.target}`",
        f"- **Model**: scikit-learn pipeline (imputation and encoding, then `{facts.family}`), hyperparameters {hyper}",
        f"- **Inputs**: {len(facts.expectations.features)} features (see Training data); output: the prediction"
        + (" and the probability of each class" if facts.task == "classification" else ""),
        f"- **License**: {facts.license}",
        "",
        "## Intended use",
        "",
        facts.description,
        "",
        "Served by the project's FastAPI service from the registry's `@champion` alias; every prediction is logged "
        "so that feedback and monitoring can judge it. Not meant for inputs unlike the training data (Limitations).",
        "",
        "## Training data",
        "",
        f"- **Source**: `{facts.source}`",
        "- **Rows**: " + ", ".join(f"{name} {count}" for name, count in facts.rows.items()),
        "- **DVC hashes (md5)**: " + ", ".join(f"{name} `{md5}`" for name, md5 in facts.hashes.items()),
        *_feedback_lines(registration),
        "",
        "### Data expectations",
        "",
        "What `validate` checks on every ingest (`data/expectations.json`); retraining quarantines feedback that "
        "breaks it, and the service flags numbers outside the range.",
        "",
        *_table(["feature", "kind", "seen at ingest", "max missing"], _expectation_rows(facts.expectations)),
        "",
        "## Evaluation",
        "",
        f"On the held-out test split ({facts.rows.get('test', 0)} rows):",
        "",
        *_table(["metric", "value"], [[name, f"{value:.6g}"] for name, value in sorted(facts.test_metrics.items())]),
        "",
        "### Per-slice metrics",
        "",
        *_slice_lines(facts),
        "",
        "## Limitations",
        "",
        "- Trained on one snapshot of the source: inputs outside the ranges above are scored, but the model never saw "
        "the like (the service flags them as out of range).",
        "- The test split comes from the same source as the training data; the live world drifts away from both, "
        "which monitoring measures (below).",
        "- Slices with few rows give unstable metrics; no fairness analysis beyond the per-slice table was made.",
        "",
        "## Monitoring",
        "",
        MONITORING_START,
        monitoring or "No monitoring run yet: `monitor` writes the latest status here.",
        MONITORING_END,
        "",
        "## Lineage",
        "",
        "- Trained and evaluated by the DVC pipeline (`dvc.yaml`: ingest, validate, split, train, evaluate); the "
        "hashes above are the ones `dvc.lock` records.",
        *_registration_lines(registration),
        "",
    ]
    return "\n".join(lines)


def _feedback_lines(registration: Registration | None) -> list[str]:
    """Which feedback sources the version was trained on, and how many rows of each (the run's retrain tags)."""
    if registration is None:
        return []
    sources = json.loads(registration.tags.get("retrain.feedback_sources", "{}"))
    if not sources:
        return ["- **Feedback trained on**: none (trained by the pipeline on the training split alone)"]
    share = registration.tags.get("retrain.max_source_share", "?")
    used = ", ".join(f"{name} {counts[1]} of {counts[0]} rows" for name, counts in sources.items())
    return [
        f"- **Feedback trained on**, per source (at most {share} of it from one, `retrain.max_source_share`): {used}"
    ]


def _registration_lines(registration: Registration | None) -> list[str]:
    if registration is None:
        return [
            "- Registered version and MLflow run: in the copy of this card logged to that run (`MODEL_CARD.md`), left "
            "out here because every run registers a new version."
        ]
    tags = registration.tags
    lines = [
        f"- **Registered version**: {registration.version}, MLflow run `{registration.run_id}`",
        f"- **Git commit**: `{tags.get('lineage.git_commit', 'unknown')}`"
        + (" (with uncommitted changes)" if tags.get("lineage.git_dirty") == "true" else ""),
    ]
    if tags.get("lineage.dvc_experiment"):
        lines.append(f"- **DVC experiment**: `{tags['lineage.dvc_experiment']}`")
    return lines


def with_monitoring(card: str, status: str) -> str:
    """The card with its monitoring section replaced by the latest status (the rest stays as evaluate wrote it)."""
    start, end = card.find(MONITORING_START), card.find(MONITORING_END)
    if start < 0 or end < start:
        raise ValueError("the model card has no monitoring section to update")
    return card[: start + len(MONITORING_START)] + "\n" + status + "\n" + card[end:]


def monitoring_status(summary: Summary) -> str:
    """The card's monitoring section: the latest run's verdict and figures."""
    metric = summary.quality_metric
    live = summary.quality.get(metric)
    verdict = "; ".join(breach.message for breach in summary.breaches) or "no threshold crossed"
    return "\n".join(
        [
            f"Latest run {summary.created_at.strftime('%Y-%m-%d %H:%M UTC')} on {summary.window['description']}"
            f" ({summary.n_current} predictions, {summary.n_labeled} with feedback): **{verdict}**.",
            "",
            f"- drift: {summary.drift_share:.0%} of {summary.n_columns} features drifted"
            f" (threshold {summary.drift_threshold:.0%})",
            f"- {metric} on feedback: "
            + ("no labelled predictions" if live is None else f"{live:.4g}")
            + f" (baseline {summary.baseline_text()})",
            f"- out-of-range requests: {summary.out_of_range_share:.1%}",
            "- history: `reports/monitoring/history.jsonl`; reports: `reports/monitoring/latest/`",
        ]
    )
