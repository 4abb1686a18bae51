"""Alerts: rules an admin sets (`rules`), checked against the figures of a run (`check`)."""
