"""What an import accepts fits the column it is written to, so PostgreSQL (which enforces VARCHAR lengths)
and SQLite (which does not) accept the same files: a text field's ``max_length`` is at most its column's
length, an enum's longest choice fits, and whole numbers and amounts fit INTEGER and NUMERIC(14, 2)."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, Numeric, String

from revteam.ingest.fields import INT_MAX
from revteam.ingest.schemas import KIND_SPECS
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealStageChange,
    StageChange,
    Touchpoint,
)

TABLES = {"accounts": Account, "contacts": Contact, "touchpoints": Touchpoint, "campaigns": Campaign,
          "content": ContentAsset, "deals": Deal, "stage_changes": StageChange, "deal_stage_changes": DealStageChange}
PAIRS = [(kind, f) for kind, spec in KIND_SPECS.items() for f in spec.fields
         if f.name in TABLES[kind].__table__.c]


@pytest.mark.parametrize(("kind", "spec"), PAIRS, ids=[f"{k}.{f.name}" for k, f in PAIRS])
def test_an_accepted_value_fits_its_column(kind, spec):
    column = TABLES[kind].__table__.c[spec.name]
    if isinstance(column.type, String) and column.type.length:
        if spec.type == "enum":
            assert max(map(len, spec.choices)) <= column.type.length
        elif spec.type == "email":
            assert column.type.length >= 254  # normalise_email refuses longer addresses
        elif spec.type == "domain":
            assert column.type.length >= 253  # normalise_domain refuses longer names
        else:
            assert spec.max_length is not None and spec.max_length <= column.type.length
    if isinstance(column.type, Integer) and spec.type == "int":
        assert (spec.maximum or INT_MAX) <= INT_MAX
    if isinstance(column.type, Numeric):
        assert spec.type == "decimal"
        assert (spec.digits, spec.places) == (column.type.precision, column.type.scale)
