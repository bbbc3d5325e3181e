"""The sort order of search endpoints, as the reference applies it."""

from __future__ import annotations


def sort_of(body: dict, default: str = "created_at") -> dict[str, str]:
    """`sort_order` only counts with a `sort_by`: alone, the reference keeps its default
    order, newest `default` first (threads: most recently updated; assistants: created)."""
    if not body.get("sort_by"):
        return {"sort_by": default, "sort_order": "desc"}
    return {"sort_by": body["sort_by"], "sort_order": body.get("sort_order") or "desc"}
