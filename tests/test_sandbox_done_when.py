"""Issue 4's acceptance run: `helpdesk-kpi sandbox --size 25000` starts, and `hubspot-api-client`, pointed
at its host with the printed token, pages through all 25,000 tickets with the list API, and with search,
re-windowing on `hs_lastmodifieddate` past the 10,000-result cap as against the live API."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubspot import HubSpot
from hubspot.crm.tickets.exceptions import ApiException

from tests.hubspot_helpers import iso_epoch_ms, search_modified_since

SIZE = 25_000


@pytest.fixture(scope="module")
def client() -> Iterator[HubSpot]:
    script = Path(sys.executable).with_name("helpdesk-kpi")
    process = subprocess.Popen(
        [str(script), "sandbox", "--size", str(SIZE)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(11))
        yield HubSpot(
            access_token=settings["HELPDESK_HUBSPOT__ACCESS_TOKEN"],
            host=settings["HELPDESK_HUBSPOT__BASE_URL"],
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_list_api_pages_through_all_25000_tickets(client: HubSpot) -> None:
    seen: set[str] = set()
    after = None
    while True:
        page = client.crm.tickets.basic_api.get_page(limit=100, after=after)
        seen |= {t.id for t in page.results}
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == SIZE


@pytest.mark.slow
def test_search_rewindows_past_the_10000_cap(client: HubSpot) -> None:
    seen: dict[str, int] = {}
    since, after, windows = 0, None, 1
    while True:
        try:
            page = search_modified_since(client, since, after)
        except ApiException as exc:
            if exc.status == 429:  # search's own limit (5/s, as HubSpot's): wait as told, ask again
                time.sleep(int(exc.headers["Retry-After"]))
                continue
            assert exc.status == 400  # the cap: start a new window from the last time seen
            since, after, windows = max(seen.values()), None, windows + 1
            continue
        for ticket in page.results:
            stamp = ticket.properties["hs_lastmodifieddate"]
            seen[ticket.id] = iso_epoch_ms(stamp)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == SIZE
    assert windows >= 3  # 25,000 results need at least three windows of at most 10,000
