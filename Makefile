# Two commands on a fresh Debian machine (as root, or with sudo for apt-get):
#   make demo   set everything up, start a local demo inbox and run the worker on it
#   make test   set everything up and run the test suite against real servers
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: demo test setup system-deps test-deps bench clean

demo: setup
	$(BIN)/amends demo

test: setup test-deps
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/amends model list >/dev/null 2>&1 && test -f var/models/ACTIVE || $(BIN)/amends train
	$(BIN)/python benchmarks/classify.py
	$(BIN)/python benchmarks/drafts.py
	$(BIN)/python benchmarks/soak.py

setup: system-deps $(VENV)/.installed

# Dovecot serves the demo inbox and the tests' IMAP server; Chromium runs the browser tests.
APT_INSTALL = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
system-deps:
	@test -x /usr/sbin/dovecot || { echo "Installing dovecot-imapd with apt-get"; $(APT_INSTALL) dovecot-imapd >/dev/null; }

test-deps: system-deps
	@test -x /usr/bin/chromium || { echo "Installing chromium with apt-get"; $(APT_INSTALL) chromium >/dev/null; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) var build *.egg-info
