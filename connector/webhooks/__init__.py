"""The webhook entry point (SPEC §6): verify → record → acknowledge → process, one core for every host."""
