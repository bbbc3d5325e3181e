"""HTTP: routes, request models, SSE framing, error mapping."""
