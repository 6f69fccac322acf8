"""The predictive scorer on the real X Education leads (numbers quoted in docs/scoring.md)."""

import pytest

from revteam.learning.xeducation import run

pytestmark = pytest.mark.datasets


def test_x_education_time_ordered_evaluation(datasets):
    r = run(datasets / "x_education_leads" / "Leads.csv")
    assert (r["train_leads"], r["leads"]) == (7392, 1848)  # 80/20 by Lead Number
    assert r["auc"] > 0.85 and r["top_decile_lift"] > 2.4
    # calibrated: across bins the predicted rate is within 10 points of the observed, weighted by leads
    gap = sum(b["leads"] * abs(b["mean_predicted"] - b["observed"]) for b in r["calibration"]) / r["leads"]
    assert gap < 0.10
