"""`coachgraph demo`: a curriculum run, an orchestrate run that learns from its own calling trees,
recommendation queries, and a report folder of plots and numbers, all from one command."""

from __future__ import annotations

from coachgraph.demo.config import DEMO_QUERIES, LEARNABLE_SKILLS, DemoConfig
from coachgraph.demo.queries import QueryAnswer, answer_queries
from coachgraph.demo.report import write_report
from coachgraph.demo.run import DemoResult, run_demo

__all__ = ("DEMO_QUERIES", "LEARNABLE_SKILLS", "DemoConfig", "DemoResult", "QueryAnswer", "answer_queries",
           "run_demo", "write_report")
