"""The graphdock API server: serves LangGraph graphs over the LangGraph API."""
