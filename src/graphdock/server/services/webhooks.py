"""Webhooks: the URL policy checked when a run is created, and the POST when it ends.

By default a webhook may not point at loopback, link-local or private addresses (a run's
creator must not be able to make the server call into its own network); `langgraph.json`
`webhooks.url` relaxes or tightens that, as the reference server reads it.

Deliveries follow Standard Webhooks (standardwebhooks.com), so a receiver can trust them
with any of its libraries: each carries `webhook-id` (the same on every retry, so duplicates
can be dropped) and `webhook-timestamp` (of the attempt), and, when a signing secret is
configured, `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
The signature is one stdlib HMAC; the `standardwebhooks` package verifies it in the tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import random
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from graphdock.server import serde
from graphdock.server.config import WebhooksConfig, WebhookUrlPolicy, expand_env
from graphdock.server.services.errors import Invalid

log = logging.getLogger("graphdock.webhooks")

_NOT_IN_URLS = re.compile(r"[\x00-\x20\x7f]")
# A DNS name, an IPv4 address, or an IPv6 address (urlsplit strips its brackets).
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")


def check_webhook_url(url: str, config: WebhooksConfig | None) -> None:
    policy = config.url if config else WebhookUrlPolicy()
    strict_block = config is not None
    if len(url) > policy.max_url_length:
        raise Invalid(f"Webhook URL is longer than {policy.max_url_length} characters")
    if _NOT_IN_URLS.search(url):
        raise Invalid(f"Invalid webhook URL {url!r}: it contains spaces or control characters")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        if not url.startswith("/"):
            raise Invalid(
                f"Invalid webhook URL {url!r}: expected an http(s) URL, or a path starting "
                "with / for a route of this server"
            )
        if policy.disable_loopback:
            raise Invalid(
                "Loopback webhooks (relative URLs and localhost) are disabled by default. "
                "Set webhooks.url.disable_loopback to false in langgraph.json to allow them."
            )
        return
    if parts.scheme not in ("http", "https"):
        raise Invalid(f"Webhook host blocked: scheme '{parts.scheme}' not allowed")
    host = parts.hostname or ""
    if not host or not _HOST.fullmatch(host):
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


OWN_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def sign(key: bytes, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one attempt (Standard Webhooks, version 1)."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def delivery_id(payload: dict[str, Any]) -> str:
    """A run ends once, so its id names the delivery: stable across retries and processes."""
    run_id = payload.get("run_id")
    return f"msg_{run_id}" if run_id else f"msg_{uuid.uuid4()}"


class WebhookSender:
    """POSTs a finished run to its webhook, retrying with jittered back-off on transport
    errors, 5xx and 429 (any other answer is final); signed when given a key."""

    def __init__(
        self,
        config: WebhooksConfig | None,
        *,
        signing_key: bytes | None = None,
        attempts: int = 4,
        base_delay: float = 0.5,
        self_url: str | None = None,
    ):
        self.config = config
        self.signing_key = signing_key
        self.self_url = self_url  # where a webhook given as a path is sent
        self.attempts = attempts
        self.base_delay = base_delay
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()

    def headers(self, message_id: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        for name, template in (self.config.headers if self.config else {}).items():
            if name.lower() not in OWN_HEADERS:  # configured ones cannot stand in for these
                headers[name] = expand_env(template)
        timestamp = int(time.time())
        headers["webhook-id"] = message_id
        headers["webhook-timestamp"] = str(timestamp)
        if self.signing_key is not None:
            headers["webhook-signature"] = sign(self.signing_key, message_id, timestamp, body)
        return headers

    def send(self, url: str, payload: dict[str, Any]) -> None:
        if url.startswith("/"):  # a route of this server (http.app), reached over loopback
            if self.self_url is None:
                log.error("webhook %s: a path, but this process knows no URL of its own", url)
                return
            url = self.self_url.rstrip("/") + url
        message_id = delivery_id(payload)
        if self.config and self.config.allowed_fields:
            payload = {k: v for k, v in payload.items() if k in self.config.allowed_fields}
        task = asyncio.create_task(self._deliver(url, payload, message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any], message_id: str) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0)
        from graphdock.server.services import clock

        for attempt in range(self.attempts):
            payload["webhook_sent_at"] = clock.now()
            body = serde.dumps(payload)
            try:
                response = await self._client.post(
                    url, content=body, headers=self.headers(message_id, body)
                )
                if response.status_code < 500 and response.status_code != 429:
                    return
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            delay = self.base_delay * 2**attempt * (0.5 + random.random())
            log.warning(
                "webhook %s (%s) failed (%s); attempt %d of %d",
                _redact(url),
                message_id,
                reason,
                attempt + 1,
                self.attempts,
            )
            if attempt + 1 < self.attempts:
                await asyncio.sleep(delay)
        log.error(
            "webhook %s (%s) gave up after %d attempts", _redact(url), message_id, self.attempts
        )

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._client is not None:
            await self._client.aclose()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"
