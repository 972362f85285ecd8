# Two commands do all the setup on a machine with Python 3.11+ and make:
#   make demo   installs everything, runs the pipeline on the bundled samples
#   make test   installs everything, runs the tests
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Install compiled bytecode: where PYTHONDONTWRITEBYTECODE is set (CI images, this
# project's own machines), Python would otherwise compile ~700 modules from source in
# every process, 2.5 s of each `clusterix run` (4.3 s to import the definitions, 1.7 s
# with bytecode).
export UV_COMPILE_BYTECODE := 1
# The dev/demo Dagster instance: deploy/dev/dagster.yaml (telemetry off) goes into a
# DAGSTER_HOME that has no dagster.yaml of its operator's (pipelines/platform/instance.py). DAGSTER_DISABLE_TELEMETRY also stops Dagster
# uploading a telemetry log that an older, telemetry-on instance left there.
DEV_HOME = DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home}
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install demo test test-unit ui serve lint format bench scale-demo sample clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(BIN)/clusterix: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

install: $(BIN)/clusterix

# `make demo PROJECT=DIR` runs another project folder instead (docs/new-project.md): its
# workbooks in DIR/raw, its tables in DIR/assets, e.g. PROJECT=examples/circular-valleys.
ifdef PROJECT
DEMO_ENV = CLUSTERIX_PROJECT_DIR=$(PROJECT) CLUSTERIX_RAW_DIR=$(PROJECT)/raw \
	CLUSTERIX_ASSETS_DIR=$(PROJECT)/assets CLUSTERIX_STATE_DIR=$(PROJECT)/state \
	DAGSTER_HOME=$(abspath $(PROJECT))/.dagster_home
endif

demo: install
	$(DEV_HOME) $(DEMO_ENV) $(BIN)/clusterix run

# loadscope keeps a module on one worker, so a module fixture (a whole pipeline run) is
# built once; `make test-unit` is the fast subset (tests/unit).
test: install
	$(BIN)/pytest -n 2 --dist loadscope

test-unit: install
	$(BIN)/pytest -n 2 tests/unit

ui: install
	$(DEV_HOME) $(BIN)/python -m pipelines.platform.instance
	$(DEV_HOME) $(BIN)/dagster dev -w workspace.yaml

# Production: dagster-daemon + dagster-webserver with deploy/dagster.yaml (queue of one
# run, run monitoring, retention, telemetry off) on HOST:PORT. Postgres when
# CLUSTERIX_POSTGRES_URL is set, or with your own $$DAGSTER_HOME/dagster.yaml.
HOST ?= 127.0.0.1
PORT ?= 3000
serve: install
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_serve} HOST=$(HOST) PORT=$(PORT) \
		$(BIN)/python -m pipelines.app.serve

lint: install
	$(BIN)/ruff check pipelines tests scripts
	$(BIN)/ruff format --check pipelines tests scripts

format: install
	$(BIN)/ruff check --fix pipelines tests scripts
	$(BIN)/ruff format pipelines tests scripts

bench: install
	$(BIN)/python scripts/benchmark.py $(ARGS)

# 10x the sample on Postgres: in process vs ingest in chunks with the multiprocess executor
# (a throw-away PostgreSQL unless ARGS has --postgres-url).
scale-demo: install
	$(BIN)/python scripts/scale_demo.py $(ARGS)

sample: install
	$(BIN)/clusterix sample

clean:
	rm -rf $(VENV) $(TOOLS) .dagster_home
