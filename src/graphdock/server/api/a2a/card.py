"""An assistant's A2A agent card: who it is, where to reach it, what it takes.

The card lists the JSON-RPC interface twice, for A2A 1.0 and 0.3 clients (one endpoint
answers both), and keeps the 0.3 top-level `url` / `protocolVersion` fields so that older
clients find it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from google.protobuf.json_format import MessageToDict

from graphdock._version import __version__

TEXT, JSON = "text/plain", "application/json"


def agent_card(assistant: Mapping[str, Any], schema: dict | None, base_url: str) -> dict[str, Any]:
    url = f"{base_url.rstrip('/')}/a2a/{assistant['assistant_id']}"
    name = assistant.get("name") or assistant["graph_id"]
    description = assistant.get("description") or (
        f"The LangGraph graph '{assistant['graph_id']}' as an agent."
    )
    properties = sorted((schema or {}).get("properties") or {})
    required = sorted((schema or {}).get("required") or [])
    takes_text = schema is None or "messages" in properties
    modes = [TEXT, JSON] if takes_text else [JSON]
    takes = ", ".join(f"{p} (required)" if p in required else p for p in properties)
    skill = AgentSkill(
        id=f"{assistant['assistant_id']}-main",
        name=name,
        description=description + (f" Input: {takes}." if takes else ""),
        tags=["langgraph", assistant["graph_id"], *properties],
        examples=[],
        input_modes=modes,
        output_modes=[TEXT, JSON],
    )
    card = AgentCard(
        name=name,
        description=description,
        version=__version__,
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=modes,
        default_output_modes=[TEXT, JSON],
        skills=[skill],
    )
    return {
        **MessageToDict(card),
        "url": url,
        "protocolVersion": "0.3.0",
        "preferredTransport": "JSONRPC",
    }
