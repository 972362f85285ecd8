"""The project in use: its folder (``project.yaml``, partners, periods, instruments, event
types, indicators; ``pipelines/projects/clusterix-2.0`` by default) loaded and validated
like any input."""
