# Two commands on a fresh Debian machine (as root, or as a user who may sudo apt-get):
#   make demo   set everything up, start a local demo inbox and run the worker on it
#   make test   set everything up and run the test suite against real servers
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: demo test test-system-python setup system-deps no-system-dovecot test-deps bench clean

demo: setup
	$(BIN)/amends demo

test: setup test-deps
	$(BIN)/pytest

# Debian's own python3 (3.11.2 on Debian 12) lacks CPython fixes the usual builds have (a broken
# process pool's shutdown hung before 3.11.5, gh-94777): the tests that kill parse and worker
# processes run on it too. CI runs this after `make test`.
SYSTEM_VENV = .venv-system
test-system-python: test-deps
	@/usr/bin/python3 -c "import ensurepip" 2>/dev/null || { echo "Installing python3-venv with apt-get"; $(APT_INSTALL) python3 python3-venv >/dev/null; }
	@test -x $(SYSTEM_VENV)/bin/pytest || { /usr/bin/python3 -m venv $(SYSTEM_VENV) && PYTHONWARNINGS=ignore $(SYSTEM_VENV)/bin/pip install -q -e '.[test]'; }
	$(SYSTEM_VENV)/bin/pytest -q tests/test_backlog.py tests/test_worker_process.py tests/test_hostile.py tests/test_setup.py

bench: setup
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/amends model list >/dev/null 2>&1 && test -f var/models/ACTIVE || $(BIN)/amends train
	$(BIN)/python benchmarks/classify.py
	$(BIN)/python benchmarks/drafts.py
	$(BIN)/python benchmarks/soak.py

setup: system-deps $(VENV)/.installed

# Dovecot serves the demo inbox and the tests' IMAP server; Chromium runs the browser tests.
# sudo only for apt-get, and only when not root; apt waits up to 10 minutes for another
# apt-get (an unattended upgrade, say) to let go of its lock instead of failing at once.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT = $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
APT_INSTALL = $(APT) update -qq && $(APT) install -y -qq
system-deps:
	@test -x /usr/sbin/dovecot || { echo "Installing dovecot-imapd with apt-get"; $(APT_INSTALL) dovecot-imapd >/dev/null && $(MAKE) --no-print-directory no-system-dovecot; }

# The package enables a system-wide IMAP server (ports 143/993) on systemd hosts. Amends starts
# its own private Dovecot for the demo and the tests, so switch the system one off again.
no-system-dovecot:
	@if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true; fi

test-deps: system-deps
	@test -x /usr/bin/chromium || { echo "Installing chromium with apt-get"; $(APT_INSTALL) chromium >/dev/null; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e '.[test]'  # setuptools' notes on editable installs are not for users
	touch $@

clean:
	rm -rf $(VENV) $(SYSTEM_VENV) var build *.egg-info
