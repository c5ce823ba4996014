"""`recommend_next_agent`: the recommender as a LangChain tool any LangGraph orchestrator can call."""

from __future__ import annotations

from typing import Literal

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from coachgraph.recommend.service import RecommendService

__all__ = ["RecommendNextInput", "recommend_next_agent_tool"]


class RecommendNextInput(BaseModel):
    """Arguments the orchestrator's model fills in."""

    task: str = Field(description="The task or subtask that needs an agent or tool.")
    k: int = Field(default=3, ge=1, le=20, description="How many suggestions to return.")
    trace_id: str | None = Field(default=None, description="The running trace, when it is logged.")
    node_id: str | None = Field(default=None, description="The calling node in that trace.")
    kind: Literal["agent", "tool", "skill"] | None = Field(
        default=None, description="Recommend only agents, tools or skills; leave empty for any.")


def recommend_next_agent_tool(service: RecommendService) -> StructuredTool:
    """A tool named ``recommend_next_agent`` answering with ranked names, scores and reasons."""

    def run(task: str, k: int = 3, trace_id: str | None = None, node_id: str | None = None,
            kind: str | None = None) -> list[dict[str, object]]:
        ranked = service.next(task=task, trace_id=trace_id, node_id=node_id, k=k, kind=kind)
        return [{"name": r.name, "probability": round(r.probability, 4),
                 "top_reason": max(r.contributions, key=lambda g: r.contributions[g], default="")}
                for r in ranked]

    return StructuredTool.from_function(
        run, name="recommend_next_agent", args_schema=RecommendNextInput,
        description="Rank the agents or tools best suited to call next for a task, learned from past calling trees.")
