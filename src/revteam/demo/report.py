"""``python -m revteam.demo.report [DATABASE_URL]``: the measured numbers of a built demo, as JSON.

The figures in ``docs/demo.md`` come from this command run on the full-size demo database (see
``revteam.demo.measure`` for the definitions). Without an argument it reads REVTEAM_DATABASE_URL.
"""

from __future__ import annotations

import json
import sys

from revteam.config import get_settings
from revteam.demo.measure import measure_demo
from revteam.store.db import make_engine


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    engine = make_engine(args[0] if args else get_settings().database_url)
    try:
        with engine.connect() as conn:
            print(json.dumps(measure_demo(conn), indent=2, default=str))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
