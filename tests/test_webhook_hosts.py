"""The webhook app's hosts: AWS Lambda events (API Gateway REST v1 and HTTP API v2) through the handler,
and `helpdesk-kpi serve` under waitress over loopback."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from connector.store import Store
from connector.webhooks import host
from tests.test_webhook_app import hubspot_event
from tests.test_webhook_verify import SECRET, signed_request

PATH = "/webhooks/hubspot"


def _signed(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps([hubspot_event(7)]).encode()
    request = signed_request(url=url, body=body)
    return body, dict(request.headers) | {"content-type": "application/json"}


@pytest.fixture
def lambda_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'lambda.db'}"
    monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_HUBSPOT__CLIENT_SECRET", SECRET)
    monkeypatch.setattr(host, "_lambda", None)
    return url


def test_api_gateway_v2_and_v1_events_through_the_lambda_handler(lambda_env: str) -> None:
    body, headers = _signed("https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/hubspot")
    v2 = {
        "version": "2.0", "routeKey": "POST /webhooks/hubspot", "rawPath": PATH, "rawQueryString": "",
        "headers": headers | {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https",
                              "x-forwarded-port": "443"},
        "requestContext": {"http": {"method": "POST", "path": PATH, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4",
                                    "userAgent": "HubSpot Connect"}, "stage": "$default"},
        "body": base64.b64encode(body).decode(), "isBase64Encoded": True,
    }  # fmt: skip
    answer = host.lambda_handler(v2, None)
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"]) == {"accepted": 1, "new": 1}
    again = host.lambda_handler(v2, None)  # redelivered
    assert json.loads(again["body"]) == {"accepted": 1, "new": 0}

    body, headers = _signed("https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/hubspot")
    v1_headers = headers | {"Host": "abc.execute-api.eu-west-1.amazonaws.com", "X-Forwarded-Proto": "https",
                            "X-Forwarded-Port": "443"}  # fmt: skip
    v1 = {  # API Gateway REST sends every header twice: single- and multi-valued
        "httpMethod": "POST", "path": PATH, "resource": PATH, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "headers": v1_headers,
        "multiValueHeaders": {k: [v] for k, v in v1_headers.items()},
        "requestContext": {"identity": {"sourceIp": "1.2.3.4"}}, "body": body.decode(), "isBase64Encoded": False,
    }  # fmt: skip
    assert host.lambda_handler(v1, None)["statusCode"] == 200
    bad = dict(v1, body=body.decode().replace("5007", "5008"))
    refused = host.lambda_handler(bad, None)
    assert refused["statusCode"] == 401 and "bad signature" in refused["body"]
    store = Store.open(lambda_env)
    assert len(store.pending_webhook_events()) == 1
    store.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    """`helpdesk-kpi serve` in a subprocess with `env` (on top of a clean environment), ready; yields its
    base URL and stops it afterwards."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    script = str(Path(sys.executable).with_name("helpdesk-kpi"))
    server = subprocess.Popen(
        [script, "serve", "--port", str(port)], env=clean | env, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_answers_over_loopback_under_waitress(tmp_path: Path) -> None:
    env = {
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "HELPDESK_HUBSPOT__CLIENT_SECRET": SECRET,
    }
    with served(env) as base:
        body, headers = _signed(f"{base}{PATH}")
        answer = requests.post(f"{base}{PATH}", data=body, headers=headers, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"accepted": 1, "new": 1}
        tampered = requests.post(f"{base}{PATH}", data=body + b" ", headers=headers, timeout=5)
        assert tampered.status_code == 401
        assert (
            "waitress" in (answer.headers.get("Server") or "")
            or answer.headers.get("Server") == "helpdesk-kpi"
        )


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_the_worker_process_ends_with_serve_even_when_serve_is_killed(tmp_path: Path) -> None:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env = clean | {"HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'kill.db'}"}
    script = str(Path(sys.executable).with_name("helpdesk-kpi"))
    server = subprocess.Popen([script, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while time.monotonic() < deadline and not workers:
        workers = [c for c in _children(server.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        time.sleep(0.1)
    assert workers, "serve started no worker process"
    server.kill()  # no chance to stop its worker
    server.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
