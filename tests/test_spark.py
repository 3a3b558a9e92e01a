"""Slow tier: on a default bake with `make install-spark`, `score --engine spark` on local[2] writes what the pandas
engine writes from the same input: the same columns and types, the same predictions, the same rejected rows.

A group of its own ("spark"): installing pyspark changes the project's environment, which no other group's tests
should meet. Java 17 comes from .ci/run, which installs it when the generated lock has pyspark.
"""

import json
from pathlib import Path

import pytest

from tests.projects import Projects, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

# Run with the project's Python: the test split, with a row of text in a number, an infinity and an overflow once
# scaled (1e308 in a feature whose spread is 0.01), written as a CSV and the first 30 rows again as Parquet.
MAKE_BATCH = """
import sys
from pathlib import Path
import pandas as pd
folder = Path(sys.argv[1])
folder.mkdir(parents=True)
frame = pd.read_csv("data/processed/test.csv", dtype=str).drop(columns=["target"])
frame.loc[3, "mean radius"] = "forty"
frame.loc[5, "mean area"] = "1e400"
frame.loc[8, "mean smoothness"] = "1e308"
frame["customer"] = [f"c{i}" for i in range(len(frame))]
frame.to_csv(folder / "a.csv", index=False)
frame.head(30).to_parquet(folder / "b.parquet")
"""

# Both outputs read back, sorted by where each row came from, reduced to what the test compares.
COMPARE = """
import json, sys
import numpy as np
import pandas as pd
def read(folder):
    return pd.read_parquet(folder).sort_values(["source_file", "source_row"]).reset_index(drop=True)
pandas, spark = read(sys.argv[1]), read(sys.argv[2])
by = ["source_file", "source_row", "column"]
rejected = [pd.read_parquet(f"{name}-rejected").sort_values(by).reset_index(drop=True) for name in sys.argv[1:3]]
probabilities = [c for c in pandas.columns if c.startswith("probability_")]
print(json.dumps({
    "columns": [list(pandas.columns), list(spark.columns)],
    "types": [pandas.dtypes.astype(str).tolist(), spark.dtypes.astype(str).tolist()],
    "rows": [pandas["source_row"].tolist(), spark["source_row"].tolist()],
    "predictions": [pandas["prediction"].tolist(), spark["prediction"].tolist()],
    "probabilities_close": bool(np.allclose(pandas[probabilities], spark[probabilities])),
    "customers_match": pandas["customer"].tolist() == spark["customer"].tolist(),
    "ids_unique": bool(pd.concat([pandas["prediction_id"], spark["prediction_id"]]).is_unique),
    "rejected": [r.astype(str).to_dict("records") for r in rejected],
    "summaries": [json.load(open(f"{name}-summary.json")) for name in sys.argv[1:3]],
}))
"""


def test_both_engines_write_the_same_columns_predictions_and_rejections(projects: Projects, tmp_path: Path) -> None:
    project = projects.pipelined("spark")
    run(project, "make", "install-spark")
    cli, python = f".venv/bin/{project.name}", ".venv/bin/python"
    doctor = json.loads(run(project, cli, "doctor", "--json").stdout)
    assert next(c for c in doctor["checks"] if c["check"] == "java")["status"] == "ok"

    batch, out = tmp_path / "batch", tmp_path / "out"
    run(project, python, "-c", MAKE_BATCH, str(batch))
    run(project, cli, "score", str(batch), str(out / "pandas"))
    run(project, cli, "score", str(batch), str(out / "spark"), "--engine", "spark", "--master", "local[2]")
    found = json.loads(run(project, python, "-c", COMPARE, str(out / "pandas"), str(out / "spark")).stdout)

    pandas_columns, spark_columns = found["columns"]
    assert pandas_columns == spark_columns
    assert {"prediction", "probability_0", "probability_1", "prediction_id", "source_row"} <= set(pandas_columns)
    assert found["types"][0] == found["types"][1]
    assert found["rows"][0] == found["rows"][1]
    assert found["predictions"][0] == found["predictions"][1]
    assert found["probabilities_close"] and found["customers_match"] and found["ids_unique"]
    pandas_rejected, spark_rejected = found["rejected"]
    # Rows 3, 5 and 8 of the CSV and of the Parquet copy: text, an infinity, and the model's own refusal.
    assert [(r["source_row"], r["column"]) for r in pandas_rejected] == [
        (row, column)
        for _ in ("a.csv", "b.parquet")
        for row, column in (("3", "mean radius"), ("5", "mean area"), ("8", "mean smoothness"))
    ]
    assert spark_rejected == pandas_rejected
    counts = [{key: s[key] for key in ("rows_in", "scored", "rejected")} for s in found["summaries"]]
    assert counts[0] == counts[1] == {"rows_in": 143, "scored": 137, "rejected": 6}
    assert [s["engine"] for s in found["summaries"]] == ["pandas", "spark"]
