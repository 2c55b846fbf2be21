# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint dist dist-test bench clean

venv: $(STAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: venv
	$(BIN)/nst-desktop

test: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check nst_desktop tests benchmarks resources build_scripts
	$(BIN)/ruff format --check nst_desktop tests benchmarks resources build_scripts

# Standalone bundle (issue 7): dist/nst-desktop/ with nst-desktop (windowed) and
# nst-desktop-console. Rebuilt only when the package, resources or build scripts change.
DIST_APP := dist/nst-desktop
DIST_EXE := $(DIST_APP)/nst-desktop-console
DIST_SRC := pyproject.toml $(filter-out build_scripts/dist_test.py build_scripts/README.md, \
	$(shell find nst_desktop resources build_scripts -type f -not -path '*/__pycache__/*'))

dist: $(DIST_EXE)

$(DIST_EXE): $(STAMP) $(DIST_SRC)
	@$(BIN)/python -c 'import PyInstaller' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e '.[dist]'
	nice -n 10 $(BIN)/python build_scripts/build.py
	@touch $(DIST_EXE)

# Slow (a build when needed, then about a minute): not part of `make test`.
dist-test: dist
	$(BIN)/python build_scripts/dist_test.py $(DIST_APP)

bench: venv
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf build dist .pytest_cache
