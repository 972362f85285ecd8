"""The project's reference data (partners, periods, instruments, event types,
indicators) loaded from ``data/`` and validated like any input."""
