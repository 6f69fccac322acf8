"""The predictive scorer on the public X Education leads (../shared/datasets/x_education_leads).

Target: ``Converted``. Split: by ``Lead Number`` (older 80 % train, newer 20 % test).
Excluded as leaks, because sales records them while working the lead: Tags, Lead Quality, Lead Profile,
the four Asymmetrique index/score fields, Last Activity and Last Notable Activity. Prospect ID and Lead
Number are identifiers. ``with_leaks=True`` adds them back to show how much they inflate the AUC.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from revteam.learning.predictive import FeatureSpec, evaluate, time_split, train

TARGET = "Converted"
ORDER = "Lead Number"
NUMERIC = ("TotalVisits", "Total Time Spent on Website", "Page Views Per Visit")
LEAKS = ("Tags", "Lead Quality", "Lead Profile", "Asymmetrique Activity Index", "Asymmetrique Profile Index",
         "Asymmetrique Activity Score", "Asymmetrique Profile Score", "Last Activity", "Last Notable Activity")
IDS = ("Prospect ID", ORDER)


def load(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = [{k: v for k, v in r.items() if k} for r in csv.DictReader(fh)]  # the trailing comma makes a "" column
    return rows, [int(r[TARGET]) for r in rows]


def run(path: Path, *, with_leaks: bool = False) -> dict[str, Any]:
    rows, y = load(path)
    columns = [c for c in rows[0] if c not in (TARGET, *IDS, *NUMERIC) and (with_leaks or c not in LEAKS)]
    spec = FeatureSpec(categorical=columns, numeric=NUMERIC)
    train_rows, y_train, test_rows, y_test = time_split(rows, y, ORDER)
    model = train(train_rows, y_train, spec)
    p = model.predict_proba(test_rows)
    report = evaluate(y_test, p)
    report.update({"train_leads": len(train_rows), "features": len(model.encoder.names), "with_leaks": with_leaks,
                   "example_reasons": [r.text for r in model.reasons(test_rows[0])],
                   "example_probability": float(p[0])})
    return report
