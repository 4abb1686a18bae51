"""Each fault switch of the sandbox, proven: 5xx, latency, dropped connections, truncated and malformed
bodies, 429 storms with and without Retry-After, HubSpot 207 partial batch failures and 414s."""

from __future__ import annotations

import time

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.tickets import BatchInputSimplePublicObjectBatchInput
from urllib3.util.retry import Retry

from connector.sandbox import Sandbox
from connector.sandbox.faults import FaultSpecError, parse_faults


def _hubspot(sandbox: Sandbox, path: str = "/crm/v3/objects/tickets", **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {sandbox.hubspot_token}"}
    return requests.get(f"{sandbox.hubspot_url}{path}", headers=headers, params=params, timeout=10)


def test_5xx_by_scripted_sequence_then_normal_service() -> None:
    with Sandbox(size=20, faults="hubspot:/crm/v3/objects=503#1,1,0") as sandbox:
        assert [_hubspot(sandbox).status_code for _ in range(4)] == [503, 503, 200, 200]
        assert _hubspot(sandbox, "/crm/v3/owners").status_code == 200  # other paths untouched


def test_5xx_by_probability_is_repeatable_for_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with Sandbox(
            seed=seed, size=5, faults="aircall=500@0.5", aircall_requests_per_minute=1000
        ) as sandbox:
            auth = (sandbox.aircall_api_id, sandbox.aircall_api_token)
            return [
                requests.get(f"{sandbox.aircall_url}/users", auth=auth, timeout=10).status_code
                for _ in range(20)
            ]

    first = statuses(3)
    assert first == statuses(3)
    assert 500 in first and 200 in first


def test_latency_delays_answers() -> None:
    with Sandbox(size=5, faults="liveagent=latency(0.3)") as sandbox:
        started = time.monotonic()
        response = requests.get(
            f"{sandbox.liveagent_url}/tags", headers={"apikey": sandbox.liveagent_api_key}, timeout=10
        )
        assert response.status_code == 200 and time.monotonic() - started >= 0.3


def test_dropped_connection() -> None:
    with Sandbox(size=5, faults="hubspot=drop#1") as sandbox:
        with pytest.raises(requests.ConnectionError):
            _hubspot(sandbox)
        assert _hubspot(sandbox).status_code == 200


def test_truncated_and_malformed_bodies() -> None:
    with Sandbox(
        size=50, faults="hubspot:/crm/v3/objects=truncate#1; hubspot:/crm/v3/owners=malformed#1"
    ) as sandbox:
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
            _hubspot(sandbox, limit="100").json()
        broken = _hubspot(sandbox, "/crm/v3/owners")
        assert broken.status_code == 200
        with pytest.raises(ValueError):
            broken.json()


@pytest.mark.parametrize(
    ("spec", "retry_after"), [("hubspot=429(2)#1,1,0", "2"), ("hubspot=429(none)#1,1,0", None)]
)
def test_429_storms_with_and_without_retry_after(spec: str, retry_after: str | None) -> None:
    with Sandbox(size=5, faults=spec) as sandbox:
        first, second, third = (_hubspot(sandbox) for _ in range(3))
        assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
        assert first.headers.get("Retry-After") == retry_after


def test_hubspot_batch_partial_failure_is_a_207_naming_the_failed_inputs() -> None:
    with Sandbox(size=50, faults="hubspot:/crm/v3/objects/tickets/batch/update=partial(0.5)#1") as sandbox:
        client = HubSpot(access_token=sandbox.hubspot_token, host=sandbox.hubspot_url, retry=Retry(total=0))
        ids = [t.id for t in client.crm.tickets.basic_api.get_page(limit=4).results]
        result = client.crm.tickets.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[{"id": i, "properties": {"subject": "x"}} for i in ids]
            )
        )
        failed = [e.context["ids"][0] for e in result.errors]
        assert failed == [ids[0], ids[2]]
        assert sorted(r.id for r in result.results) == sorted([ids[1], ids[3]])
        # the failed ones were not written; retried alone (the fault has passed) they succeed
        assert (
            client.crm.tickets.basic_api.get_by_id(ids[0], properties=["subject"]).properties["subject"]
            != "x"
        )
        retry = client.crm.tickets.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[{"id": i, "properties": {"subject": "x"}} for i in failed]
            )
        )
        assert not getattr(retry, "errors", None) and len(retry.results) == 2


def test_414_for_over_long_urls() -> None:
    with Sandbox(size=5, faults="hubspot=414(500)") as sandbox:
        assert _hubspot(sandbox, properties=",".join(f"p{i}" for i in range(10))).status_code == 200
        assert _hubspot(sandbox, properties=",".join(f"property_{i}" for i in range(200))).status_code == 414


@pytest.mark.parametrize("spec", ["zendesk=503", "hubspot", "hubspot=explode", "hubspot=503@often"])
def test_bad_fault_specs_are_clear_errors(spec: str) -> None:
    with pytest.raises(FaultSpecError, match=repr(spec.split(";")[0])):
        parse_faults(spec)


def test_sandbox_command_rejects_a_bad_fault_spec() -> None:
    from click.testing import CliRunner

    from connector.cli import cli

    result = CliRunner().invoke(cli, ["sandbox", "--faults", "hubspot=explode"])
    assert result.exit_code == 2 and "unknown fault 'explode'" in result.output
