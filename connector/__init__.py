"""Helpdesk KPI connector: vendor APIs → common records → store → KPIs → HubSpot and files."""

__version__ = "0.1.0"
