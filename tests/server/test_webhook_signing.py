"""Webhook deliveries a receiver can trust: signed the Standard Webhooks way (checked with
the `standardwebhooks` package, not with our own code), the same id on every retry, and a
bad signing secret refused at start with one line that names where it came from."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from graphdock.server.config import ConfigError, parse_config, webhook_signing_key
from graphdock.server.settings import Settings
from tests.server.test_config import run_cli, write_app
from tests.support.receiver import Receiver

SIGNED_APP = Path(__file__).resolve().parents[1] / "app" / "langgraph_signed.json"
KEY = b"graphdock test key: 32 bytes ok"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
HI = {"messages": [{"role": "user", "content": "hi"}]}


def _headers(delivery: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in delivery["headers"].items()}


def test_deliveries_are_signed_and_keep_their_id_across_a_retry(server_process):
    # The secret comes from langgraph.json's webhooks.signing_secret, `${{ env.… }}` filled in.
    server = server_process(config=SIGNED_APP, env={"GRAPHDOCK_TEST_WEBHOOK_SECRET": SECRET})
    receiver = Receiver(fail_first=1)  # the first attempt gets a 503 and is retried
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            tid = http.post("/threads", json={}).json()["thread_id"]
            body = {"assistant_id": "agent", "input": HI, "webhook": f"{receiver.url}/hook"}
            wait = http.post(f"/threads/{tid}/runs/wait", json=body)
            run_id = wait.headers["content-location"].rsplit("/", 1)[1]
            first, retry = receiver.wait_for(2)[:2]
            failed = {"assistant_id": "fail", "input": {}, "webhook": f"{receiver.url}/hook"}
            http.post("/runs/wait", json=failed)
            other = receiver.wait_for(3)[2]

        verifier = Webhook(SECRET)
        for delivery in (first, retry):
            payload = verifier.verify(delivery["raw"], delivery["headers"])
            assert payload["run_id"] == run_id and payload["status"] == "success"
            assert payload == delivery["body"]
        # One delivery, one id, whichever attempt reaches the receiver; a timestamp per attempt.
        sent, resent = _headers(first), _headers(retry)
        assert sent["webhook-id"] == resent["webhook-id"] == f"msg_{run_id}"
        assert int(resent["webhook-timestamp"]) >= int(sent["webhook-timestamp"])
        assert sent["webhook-signature"] != resent["webhook-signature"]  # the body differs too

        assert verifier.verify(other["raw"], other["headers"])["status"] == "error"
        assert _headers(other)["webhook-id"] != _headers(first)["webhook-id"]

        tampered = retry["raw"].replace(b'"success"', b'"error"')
        assert tampered != retry["raw"]
        with pytest.raises(WebhookVerificationError):
            verifier.verify(tampered, retry["headers"])
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
                retry["raw"], retry["headers"]
            )
    finally:
        receiver.close()


# ---------------------------------------------------------------- where the secret comes from


def _config(tmp_path: Path, secret) -> object:
    raw = {"graphs": {"g": "./g.py:g"}, "webhooks": {"signing_secret": secret}}
    return parse_config(raw, tmp_path / "langgraph.json")


def test_the_secret_is_read_from_the_config_with_env_templating(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_HOOK_SECRET", SECRET)
    assert webhook_signing_key(_config(tmp_path, SECRET)) == KEY
    assert webhook_signing_key(_config(tmp_path, "${{ env.MY_HOOK_SECRET }}")) == KEY
    assert webhook_signing_key(parse_config({"graphs": {"g": "./g.py:g"}}, tmp_path)) is None
    monkeypatch.setenv("GRAPHDOCK_WEBHOOK_SECRET", SECRET)
    assert Settings().webhook_signing_key == KEY


@pytest.mark.parametrize(
    "secret, says",
    [
        ("abcdef" * 8, "must start with 'whsec_'"),
        ("whsec_not base64!", "followed by base64"),
        ("whsec_" + base64.b64encode(b"too short").decode(), "at least 24"),
        ("${{ env.GRAPHDOCK_TEST_UNSET_SECRET }}", "GRAPHDOCK_TEST_UNSET_SECRET, which is not set"),
    ],
)
def test_a_malformed_secret_is_refused_by_name(tmp_path, secret, says):
    with pytest.raises(ConfigError) as caught:
        webhook_signing_key(_config(tmp_path, secret))
    assert caught.value.key == "webhooks.signing_secret" and says in caught.value.message
    if "env." not in secret:
        assert secret.removeprefix("whsec_") not in str(caught.value)  # a secret is not echoed
    with pytest.raises(ConfigError, match="must be str"):
        _config(tmp_path, 42)


def test_cli_refuses_a_bad_secret_in_the_config_with_one_line(tmp_path):
    path = write_app(
        tmp_path,
        {"graphs": {"ok": "./app_graphs.py:compiled"}, "webhooks": {"signing_secret": "hunter2"}},
    )
    done = run_cli(path, "--no-auth")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert str(path) in line and "webhooks.signing_secret" in line and "hunter2" not in line


def test_cli_refuses_a_bad_secret_in_the_environment_with_one_line(tmp_path):
    path = write_app(tmp_path, {"graphs": {"ok": "./app_graphs.py:compiled"}})
    done = run_cli(path, "--no-auth", env={"GRAPHDOCK_WEBHOOK_SECRET": "whsec_hunter2"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "GRAPHDOCK_WEBHOOK_SECRET" in line and "hunter2" not in line
