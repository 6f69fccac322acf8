"""The believable demo company behind ``revteam demo`` (see docs/demo.md for what it holds).

``build_demo_company(engine, seed=, now=, scale=, progress=, reset=)`` generates and writes it;
``generate_company`` is the pure generator; ``measure_demo`` reads the numbers back from a database.
The shape of the company (funnel rates, cycles, deal sizes) is tuned in ``shape``.
"""

from revteam.demo.build import DemoCompany, DemoSummary, build_demo_company, generate_company
from revteam.demo.measure import measure_demo
from revteam.demo.people import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "DemoCompany", "DemoSummary", "build_demo_company", "generate_company", "measure_demo"]
