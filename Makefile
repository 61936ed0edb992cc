# The README's commands. `setup` is what the others share: it ends with the
# database running and migrated.
.PHONY: setup setup-test demo test bench stop

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --browser

demo: setup
	@.venv/bin/psq demo
	@echo "Open http://127.0.0.1:5000/ in a browser."
	@.venv/bin/psq serve --host 127.0.0.1 --port 5000

test: setup-test
	@.venv/bin/lint-imports --no-cache
	@.venv/bin/python -m pytest

bench: setup
	@.venv/bin/python -m bench

stop:
	@.venv/bin/psq db stop
