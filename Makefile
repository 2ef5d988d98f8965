# 物业助手 — the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := .tools/bin/uv
APP_PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
RASA_PY := .venv-rasa/bin/python
RASA_PROJECT := --config bot/config.yml --domain bot/domain --data data
export UV_PYTHON_DOWNLOADS := never
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run test train eval bench shell lint format envs browser lock lock-rasa clean

help:
	@echo "make run     start Rasa (:5005) and the app (:8000) with the demo community"
	@echo "make test    install what the tests need, train if stale, run the whole suite"
	@echo "make train   retrain the Rasa model if data/ or bot/ changed"
	@echo "make eval    NLU report on the held-out set, with a baseline and 5-fold CV (results/)"
	@echo "make bench   latency, throughput and memory of the whole stack (results/bench.json)"
	@echo "make shell   chat with the bot in the terminal (as demo-resident-1)"
	@echo "make lint    ruff"

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# The app environment (Python >= 3.11), exactly as uv.lock pins it.
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python "$$(scripts/find-python.sh 3.11)"
	touch $@

# The Rasa environment (Python 3.10), exactly as bot/requirements.lock pins it.
# The .pth file puts the repository on its path so bot/components imports as `bot.components`.
.venv-rasa/.installed: bot/requirements.lock | $(UV)
	$(UV) venv --allow-existing --python "$$(scripts/find-python.sh 3.10)" .venv-rasa
	$(UV) pip sync --python .venv-rasa/bin/python bot/requirements.lock
	echo "$(CURDIR)" > "$$(.venv-rasa/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/wuye-project.pth"
	touch $@

envs: .venv/.installed .venv-rasa/.installed

# Debian's Chromium, for the staff console's browser tests (Playwright drives it; no browser
# is downloaded).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

train: envs
	$(APP_PY) -m scripts.model ensure

run: envs
	$(APP_PY) -m scripts.run

test: envs browser
	$(APP_PY) -m ruff check .
	$(RASA) data validate $(RASA_PROJECT) --fail-on-warnings
	$(RASA_PY) -m pytest -c tests/bot/components/pytest.ini tests/bot/components
	$(APP_PY) -m scripts.model ensure
	$(RASA) test core --model models/wuye.tar.gz --stories tests/bot/conversations \
	  --fail-on-prediction-errors --out results/conversations
	$(APP_PY) -m pytest

# NLU report: held-out set, out-of-domain set, baseline, 5-fold cross-validation -> results/
eval: train
	$(RASA_PY) -m scripts.eval_nlu $(EVAL_ARGS)

# Latency, throughput and memory of the whole stack -> results/bench.json (see README)
bench: envs train
	$(APP_PY) -m scripts.bench

# The actions run in `make run`'s app: its action listener and the token it left in var/.
shell: envs train
	ACTION_ENDPOINT_URL=$${ACTION_ENDPOINT_URL:-http://127.0.0.1:5055/rasa/webhook} \
	ACTION_ENDPOINT_TOKEN=$${ACTION_ENDPOINT_TOKEN:-$$(cat var/action-token.txt)} \
	  $(RASA) shell -m models/wuye.tar.gz --endpoints bot/endpoints.yml --conversation-id demo-resident-1

lint: .venv/.installed
	$(APP_PY) -m ruff check .
	$(APP_PY) -m ruff format --check .

format: .venv/.installed
	$(APP_PY) -m ruff format .
	$(APP_PY) -m ruff check --fix .

lock: | $(UV)
	$(UV) lock

lock-rasa: .venv-rasa/.installed
	$(UV) pip compile --python .venv-rasa/bin/python --python-version 3.10 \
	  --no-header --output-file bot/requirements.lock bot/requirements.txt

clean:
	rm -rf .venv .venv-rasa .tools models var .pytest_cache .ruff_cache
