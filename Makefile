# Every target creates (or reuses) the project's virtual environment itself.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: lab update submission test build check-build site bench bench-grading demo venv clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## Set up and open the book in JupyterLab, on your workspace (MODE=course: with an nbgrader exchange).
lab: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m convbook.reader lab --mode $(or $(MODE),reading) $(LAB_ARGS)

## Bring the book up to date (git pull), keeping everything you wrote in workspace/.
update: $(STAMP)
	@if git rev-parse --abbrev-ref '@{u}' >/dev/null 2>&1; then git pull --ff-only; fi
	$(PY) -m convbook.reader update

## Pack your work for an LMS upload: make submission STUDENT=<your id>
submission: $(STAMP)
	$(PY) -m convbook.reader zip --student "$(STUDENT)"

## Set up and run every test (reference vs Keras, build in sync, notebooks, grading).
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## Regenerate book/ and convlib/ from solutions/.
build: $(STAMP)
	$(PY) -m convbook.build

## Fail if book/ or convlib/ differ from a fresh build or leak solution text.
check-build: $(STAMP)
	$(PY) -m convbook.build --check

## The book as a static website in site/ (run on the stubs, as a new reader sees it; offline maths).
site: $(STAMP)
	$(PY) -m convbook.site $(SITE_ARGS)

## convlib vs Keras, forward and gradient, side by side.
bench: $(STAMP)
	$(PY) benchmarks/bench_conv2d.py

## Autograde a simulated class (today's book and a 17-chapter stand-in); time per submission.
bench-grading: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) benchmarks/bench_grading.py $(BENCH_ARGS)

## The instructor demo: a throwaway course, a simulated class, autograded; prints grades.
demo: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m convbook.demo

clean-venv:
	rm -rf $(VENV)
