# Two commands on a fresh machine:
#   make demo   virtual environment + package, then the whole workflow on the demo (config/demo.yaml)
#   make test   virtual environment + package + test tools, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

# The CPU build of torch when this machine carries its wheel (CI and our dev machines);
# elsewhere pip chooses the torch build that suits the platform (CUDA on a GPU machine).
TORCH_WHEEL_DIR ?= /opt/wheels
TORCH := $(if $(wildcard $(TORCH_WHEEL_DIR)/torch-2.13.0*),torch==2.13.0 --find-links $(TORCH_WHEEL_DIR),torch>=2.3)

.PHONY: demo test venv clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/snakemake --profile profiles/local --configfile config/demo.yaml
	@echo "Report: $(abspath results/demo/report/index.html)"

test: $(VENV)/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf results logs .snakemake
