"""Vendor adapters (HubSpot, LiveAgent, Aircall): pull vendor data into the common schema.

Adapters know the vendors' APIs and nothing of KPIs; they yield `connector.schema` records.
"""
