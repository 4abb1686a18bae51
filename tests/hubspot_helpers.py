"""Reading a sandbox's HubSpot tickets through `hubspot-api-client`, for the sandbox tests."""

from __future__ import annotations

from datetime import datetime

from hubspot import HubSpot
from hubspot.crm.tickets import (
    CollectionResponseWithTotalSimplePublicObjectForwardPaging,
    PublicObjectSearchRequest,
)


def search_modified_since(
    client: HubSpot, since_ms: int, after: str | None = None
) -> CollectionResponseWithTotalSimplePublicObjectForwardPaging:
    """One page (200) of tickets modified at or after `since_ms` (epoch milliseconds), oldest change first:
    the query that re-windows past search's 10,000-result cap."""
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]}
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["hs_lastmodifieddate"],
        limit=200,
        after=after,
    )
    return client.crm.tickets.search_api.do_search(request)


def iso_epoch_ms(iso_text: str) -> int:
    """HubSpot's ISO timestamp (`…Z`) as epoch milliseconds, the unit its search filters take."""
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp() * 1000)
