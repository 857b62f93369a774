# Trợ lý Một Cửa — every command a newcomer, staff member or tester needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/app/bin/python
RASA := .venv/rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help setup model index train run serve bot chat test test-python test-production test-faults test-hosts test-rasa \
        validate lint \
        typecheck kb-calibrate \
        kb-lint kb-build kb-search kb-import kb-import-catalog kb-sync-catalog kb-gaps report bench-retrieval bench-scale \
        bench lock clean staff-add staff-disable staff-enable staff-remove

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup:  ## create the Python envs and the embedding model (skipped when up to date)
	@bash scripts/setup.sh
	@$(PY) -m scripts.convert_e5

model: setup  ## (re)convert the bundled multilingual-e5-small model for sentence-transformers

index: setup  ## build the knowledge index if the knowledge changed (keeps serving the old one on errors)
	@$(PY) -m knowledge.index.build || { test -d var/index && echo "[index] keeping the previous index; fix the errors above"; }

train: setup  ## train the Rasa model if config, domain or data changed
	@bash scripts/train.sh

run: index train  ## run the bot: Telegram if TELEGRAM_BOT_TOKEN is set, else a chat in this terminal
	@$(PY) -m scripts.serve --front auto

serve: index train  ## run the action server (:5055) and Rasa server (:5005) only, until Ctrl-C
	@$(PY) -m scripts.serve --front none

bot: setup  ## run the Telegram bridge alone against a running Rasa server (RASA_URL)
	@$(PY) -m bot

chat: setup  ## chat in the terminal with an already running Rasa server
	@$(PY) -m scripts.chat --url $${RASA_URL:-http://localhost:5005}

staff-add: setup  ## staff console account: make staff-add USER=lan ROLE=editor|viewer (password asked, or STAFF_PASSWORD)
	@$(if $(filter command line,$(origin USER)),,$(error name the account: make staff-add USER=lan ROLE=editor))
	@$(PY) -m console staff-add "$(USER)" --role "$(or $(ROLE),viewer)"

staff_change = $(if $(filter command line,$(origin USER)),,$(error name the account: make $@ USER=lan))$(PY) -m console $@ "$(USER)"
staff-disable: setup  ## end a staff account's sessions and stop it signing in: make staff-disable USER=lan
	@$(staff_change)
staff-enable: setup  ## let a disabled staff account sign in again: make staff-enable USER=lan
	@$(staff_change)
staff-remove: setup  ## delete a staff account and end its sessions: make staff-remove USER=lan
	@$(staff_change)

test: index train  ## set up from nothing and run every test
	@bash scripts/install-test-services.sh
	@$(MAKE) --no-print-directory --keep-going validate lint typecheck test-python test-production test-faults test-hosts test-rasa

validate:
	@echo "== rasa data validate == $$(date +%T)"
	@# Responses the custom actions send are in no story or rule; tests/actions/test_responses.py checks that every
	@# response is used by a rule, a story or an action, so Rasa's "not used" warning for them is left out.
	@$(RASA) data validate --fail-on-warnings 2>&1 | grep -vE "MovedIn20Warning|declarative_base|is not used in any story or rule|^\s*$$" | tail -n 20; exit $${PIPESTATUS[0]}
	@echo "== knowledge lint == $$(date +%T)"
	@$(PY) -m knowledge.tools.records.lint

lint:  ## ruff on the project's Python, and the import contracts (make imports)
	@echo "== ruff == $$(date +%T)"
	@.venv/app/bin/ruff check .
	@$(MAKE) --no-print-directory imports

.PHONY: imports
imports:  ## the packages' layering (docs/architecture.md), checked by import-linter: pyproject.toml [tool.importlinter]
	@echo "== import contracts == $$(date +%T)"
	@.venv/app/bin/lint-imports --no-cache

typecheck:  ## mypy: the app environment's code, then the Rasa environment's (nlu_components, channels, settings) as Python 3.10
	@echo "== mypy == $$(date +%T)"
	@.venv/app/bin/mypy
	@.venv/app/bin/mypy --python-version 3.10 nlu_components channels settings

test-python:  ## pytest: units, knowledge, actions, REST and Telegram round trips on real servers
	@echo "== pytest == $$(date +%T)"
	@$(PY) -m pytest -m "not production" --durations=25

test-production: index train  ## the production profile: PostgreSQL, Redis, HAProxy, 2 Rasa/action/bridge replicas
	@bash scripts/install-test-services.sh
	@echo "== pytest: production profile == $$(date +%T)"
	@$(PY) -m pytest -m "production and not faults and not hosts" tests/production

test-faults: index train  ## the fault suite on the production profile; prints sent/answered/lost/duplicated
	@bash scripts/install-test-services.sh
	@echo "== pytest: fault suite == $$(date +%T)"
	@$(PY) -m pytest -m faults tests/production

test-hosts: index train  ## the production profile on 4 hosts (network namespaces, as root); one host's cable cut
	@bash scripts/install-test-services.sh
	@echo "== pytest: production profile across hosts == $$(date +%T)"
	@$(PY) -m pytest -m hosts tests/production/test_hosts.py

test-rasa:  ## rasa test nlu (held-out, with and without diacritics) and conversation stories
	@echo "== rasa test == $$(date +%T)"
	@$(PY) -m scripts.rasa_tests

kb-lint:  ## check every knowledge file; prints file:line: field: problem
	@$(PY) -m knowledge.tools.records.lint

kb-build: setup  ## rebuild the knowledge index (the running bot picks it up within seconds)
	@$(PY) -m knowledge.index.build

kb-search: setup  ## search the knowledge base: make kb-search Q="làm căn cước cần gì"
	@$(PY) -m knowledge.search "$(Q)"

kb-import: setup  ## import procedures from a sheet: make kb-import FILE=thu-tuc.xlsx [ARGS=--dry-run]
	@$(PY) -m knowledge.tools.records.sheet_import "$(FILE)" $(ARGS)

kb-import-catalog:  ## rebuild the official catalogue snapshot from ../shared and print the parse report
	@$(PY) -m knowledge.tools.catalog.importer $(ARGS)

kb-sync-catalog:  ## refresh the official catalogue from the portal API (review the report, then ARGS=--apply)
	@$(PY) -m knowledge.tools.catalog.sync $(ARGS)

kb-calibrate: index  ## refit the search confidence and the decision thresholds on tests/data/questions/calibration.yml (never dev or test) [ARGS=--decision-only]
	@$(PY) -m knowledge.search --calibrate $(ARGS)

kb-gaps:  ## the questions citizens asked that the bot could not answer, most frequent first
	@$(PY) -m journal gaps

report:  ## counts of answered/unanswered questions, feedback and handoffs
	@$(PY) -m journal report

.PHONY: privacy-migrate
privacy-migrate:  ## mask personal numbers in what is already stored (make run/serve do it at every start)
	@$(PY) -m scripts.mask_stored

bench-retrieval: index  ## retrieval accuracy, dev and test, curated-only and full index [ARGS=--misses: dev misses]
	@$(PY) tests/benchmarks/bench_retrieval.py $(ARGS)

bench-scale: index  ## full build, one edit live, search p95, server RSS vs targets (~10 min; ARGS=--reuse-cache)
	@$(PY) tests/benchmarks/bench_scale.py $(ARGS)

bench: index train  ## load test (locust): REST and Telegram, embedded and production profiles, then one long session's cost per turn (~25 min; ARGS=--quick)
	@$(PY) tests/benchmarks/bench_load.py $(ARGS)
	@$(PY) tests/benchmarks/bench_edits.py  # a staff change live through the console: alias, fee, revert
	@$(PY) tests/benchmarks/bench_session.py

bench-dialogue: index train  ## end-to-end answer accuracy on the dev and test questions, through NLU and actions
	@$(PY) tests/benchmarks/bench_dialogue.py $(ARGS)

lock:  ## re-pin requirements/*.lock from the current envs
	@(echo "# pip freeze of the Rasa env (Python 3.10). Regenerate: make lock"; .venv/rasa/bin/pip freeze) > requirements/rasa.lock
	@(echo "# pip freeze of the app env (Python 3.11), without rasa-sdk (see app.in). Regenerate: make lock"; \
	  .venv/app/bin/pip freeze | grep -v '^rasa-sdk==') > requirements/app.lock

clean:  ## remove generated models, indexes, logs and results (keeps the envs)
	rm -rf models results var
