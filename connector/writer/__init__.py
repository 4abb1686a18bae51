"""Writers: results back into HubSpot (properties, KPI snapshots) and into files (the dashboard)."""
