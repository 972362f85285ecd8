"""Entry points: `clusterix` (cli), `clusterix run` (run) and `make serve` (serve)."""
