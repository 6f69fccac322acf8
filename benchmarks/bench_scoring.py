"""Rescoring benchmark: 1,000,000 contacts with 5,000,000 touchpoints, default scoring model.

Ours: revteam.domain.scoring.score_batch (NumPy) + the top-3 reason codes of every contact.
Peer: the same rules written the usual notebook way in pandas (merge, groupby, clip), totals only.
Both must give the same totals (checked). Run: `python benchmarks/bench_scoring.py [--contacts N --touches M]`.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from datetime import datetime, timezone

import numpy as np

from revteam.domain.identity import seniority_from_title
from revteam.domain.scoring import ContactTable, TouchTable, score_batch, top_reason_codes
from revteam.services.qualify.scoring import DEFAULT_MODEL_PATH
from revteam.domain.scoring import model_from_toml

NOW = datetime(2026, 3, 16, tzinfo=timezone.utc)
TITLES = ["VP Operations", "Director of IT", "Head of Sales", "CFO", "Marketing Manager", "Analyst", "Engineer",
          "Student", "Founder", "Sales Lead", "Consultant", "Intern"]
INDUSTRIES = ["software", "financial_services", "manufacturing", "healthcare", "retail", "education", "government",
              "media", "logistics", "energy"]
TYPES = ["page_view", "page_view", "page_view", "email_open", "email_click", "content_download", "webinar_registered",
         "webinar_attended", "form_submit", "ad_click", "demo_request", "email_bounce"]
URLS = [f"/blog/post-{i}" for i in range(150)] + [f"/pricing{s}" for s in ("", "/enterprise", "/faq")] + ["/", "/demo"]


def make(n_contacts: int, n_touches: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    titles = np.array(TITLES, dtype=object)[rng.integers(0, len(TITLES), n_contacts)]
    fields = {
        "title": titles,
        "seniority": np.vectorize({t: seniority_from_title(t) for t in TITLES}.get, otypes=[object])(titles),
        "employees": rng.integers(1, 20000, n_contacts),
        "industry": np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n_contacts)],
        "email_domain": np.where(rng.random(n_contacts) < 0.001, "competitor.example", "acme.com").astype(object),
        "consent": np.array(["unknown", "opted_in", "opted_out"], dtype=object)[rng.integers(0, 3, n_contacts)],
    }
    contacts = ContactTable(np.arange(1, n_contacts + 1), fields)
    now64 = np.datetime64(NOW.replace(tzinfo=None), "s")
    touches = TouchTable(
        contact=rng.integers(0, n_contacts, n_touches),
        occurred_at=now64 - rng.integers(0, 365 * 86400, n_touches).astype("timedelta64[s]"),
        type=np.array(TYPES, dtype=object)[rng.integers(0, len(TYPES), n_touches)],
        channel=np.array(["organic", "paid", "email", "social"], dtype=object)[rng.integers(0, 4, n_touches)],
        campaign=np.array([f"cmp-{i}" for i in range(40)], dtype=object)[rng.integers(0, 40, n_touches)],
        content_category=np.array(["pricing", "problems", "comparisons", "reviews", "best_of", ""], dtype=object)[
            rng.integers(0, 6, n_touches)],
        url=np.array(URLS, dtype=object)[rng.integers(0, len(URLS), n_touches)],
    )
    return contacts, touches


def peer_pandas(model, contacts, touches):
    import pandas as pd

    c = pd.DataFrame({k: v for k, v in contacts.fields.items()})
    fit = np.zeros(len(c))
    for r in model.fit:
        col = c[r.field]
        if r.match == "in":
            m = col.astype(str).str.lower().isin([str(v).lower() for v in r.value])
        elif r.match == "equals":
            m = col.astype(str).str.lower() == str(r.value).lower()
        elif r.match == "range":
            lo, hi = r.value
            x = pd.to_numeric(col, errors="coerce")
            m = x.between(lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
        else:
            m = col.astype(str).str.contains(r.value, case=False, regex=True)
        fit += np.where(m, r.points, 0)
    t = pd.DataFrame({"contact": touches.contact, "type": touches.type, "url": touches.url,
                      "age": (np.datetime64(NOW.replace(tzinfo=None), "s") - touches.occurred_at).astype(float) / 86400})
    eng = np.zeros(len(c))
    for r in model.engagement:
        m = t["type"].isin(r.type) if r.type else pd.Series(True, index=t.index)
        if r.url_pattern:
            m &= t["url"].str.contains(r.url_pattern, case=False, regex=True)
        age = t.loc[m, "age"]
        pts = r.points * (0.5 ** (age / model.half_life_days) if r.decay else pd.Series(1.0, index=age.index))
        s = pts.groupby(t.loc[m, "contact"]).sum()
        if r.cap is not None:
            s = s.clip(-r.cap, r.cap)
        if len(s):
            eng[s.index.to_numpy(dtype=np.int64)] += s.to_numpy()
    return fit + eng


def main() -> None:
    warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression")
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--touches", type=int, default=5_000_000)
    args = ap.parse_args()
    model = model_from_toml(DEFAULT_MODEL_PATH.read_text())
    contacts, touches = make(args.contacts, args.touches)
    t0 = time.perf_counter()
    batch = score_batch(model, contacts, touches, now=NOW)
    codes = top_reason_codes(batch, k=3)
    ours = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sample = [r.text for r in batch.reasons(int(np.argmax(batch.total)))]
    t0 = time.perf_counter()
    totals = peer_pandas(model, contacts, touches)
    peer = time.perf_counter() - t0
    assert np.allclose(totals, batch.total), "peer and ours disagree"
    print(f"rescoring {args.contacts:,} contacts, {args.touches:,} touchpoints, {len(model.fit)} fit + "
          f"{len(model.engagement)} engagement + {len(model.fast_track)} fast-track rules")
    print(f"| implementation | seconds | ratio to ours |\n|---|---:|---:|")
    print(f"| revteam score_batch + top-3 reason codes | {ours:.2f} | 1.00 |")
    print(f"| pandas groupby, totals only (peer) | {peer:.2f} | {peer / ours:.2f} |")
    print(f"peak resident memory of the process after ours: {peak:,.0f} MiB; MQLs: {int(batch.is_mql.sum()):,}; reason codes shape {codes.shape}")
    print("top contact's reasons:", "; ".join(sample))


if __name__ == "__main__":
    main()
