"""Webhooks: the URL policy checked when a run is created, and the POST when it ends.

By default a webhook may not point at loopback, link-local or private addresses (a run's
creator must not be able to make the server call into its own network); `langgraph.json`
`webhooks.url` relaxes or tightens that, as the reference server reads it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
from typing import Any
from urllib.parse import urlsplit

import httpx

from graphdock.server import serde
from graphdock.server.config import ENV_TEMPLATE, WebhooksConfig, WebhookUrlPolicy
from graphdock.server.services.errors import Invalid

log = logging.getLogger("graphdock.webhooks")

_ENV_TEMPLATE = ENV_TEMPLATE


def check_webhook_url(url: str, config: WebhooksConfig | None) -> None:
    policy = config.url if config else WebhookUrlPolicy()
    strict_block = config is not None
    if len(url) > policy.max_url_length:
        raise Invalid(f"Webhook URL is longer than {policy.max_url_length} characters")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        if policy.disable_loopback:
            raise Invalid(
                "Loopback webhooks (relative URLs and localhost) are disabled by default. "
                "Set webhooks.url.disable_loopback to false in langgraph.json to allow them."
            )
        return
    if parts.scheme not in ("http", "https"):
        raise Invalid(f"Webhook host blocked: scheme '{parts.scheme}' not allowed")
    host = parts.hostname or ""
    if not host:
        raise Invalid(f"Invalid webhook hostname '{host}'")
    if strict_block and policy.require_https and parts.scheme != "https":
        raise Invalid("Webhook must use https")
    try:
        port = parts.port
    except ValueError:
        raise Invalid("Invalid webhook port") from None
    if (
        policy.allowed_ports
        and (port or (443 if parts.scheme == "https" else 80)) not in policy.allowed_ports
    ):
        raise Invalid(f"Webhook port {port} is not allowed")
    if policy.allowed_domains and not any(_domain_matches(host, d) for d in policy.allowed_domains):
        raise Invalid(f"Webhook host blocked: '{host}' is not an allowed domain")
    if host == "localhost" or host.endswith(".localhost"):
        if policy.disable_loopback:
            raise Invalid("Webhook host blocked: loopback IP range")
        return
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    if ip.is_loopback:
        if policy.disable_loopback:
            raise Invalid("Webhook host blocked: loopback IP range")
    elif ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        raise Invalid("Webhook host blocked: blocked IP range")
    elif ip.is_private and policy.disable_private_ips:
        raise Invalid("Webhook host blocked: private IP range")


def _domain_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) or host == pattern[2:]
    return host == pattern


class WebhookSender:
    """POSTs a finished run to its webhook, retrying with backoff on failures and 5xx."""

    def __init__(
        self, config: WebhooksConfig | None, *, attempts: int = 4, base_delay: float = 0.5
    ):
        self.config = config
        self.attempts = attempts
        self.base_delay = base_delay
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()

    def headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        for name, template in (self.config.headers if self.config else {}).items():
            headers[name] = _ENV_TEMPLATE.sub(lambda m: os.environ.get(m.group(1), ""), template)
        return headers

    def send(self, url: str, payload: dict[str, Any]) -> None:
        if self.config and self.config.allowed_fields:
            payload = {k: v for k, v in payload.items() if k in self.config.allowed_fields}
        task = asyncio.create_task(self._deliver(url, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0)
        from graphdock.server.services import clock

        for attempt in range(self.attempts):
            payload["webhook_sent_at"] = clock.now()
            try:
                response = await self._client.post(
                    url, content=serde.dumps(payload), headers=self.headers()
                )
                if response.status_code < 500 and response.status_code != 429:
                    return
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            delay = self.base_delay * 2**attempt * (0.5 + random.random())
            log.warning(
                "webhook %s failed (%s); attempt %d of %d",
                _redact(url),
                reason,
                attempt + 1,
                self.attempts,
            )
            if attempt + 1 < self.attempts:
                await asyncio.sleep(delay)
        log.error("webhook %s gave up after %d attempts", _redact(url), self.attempts)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._client is not None:
            await self._client.aclose()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"
