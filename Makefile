# make demo: install what is missing, then run the DCASE 2020 recipe (stages 0-5) on a
#            synthetic corpus: a CPU-sized STgram-MFN and the training-free log-mel
#            reference, 3 trials each; print the table over the trials and their comparison.
# make test: install what is missing, then the lint (ruff, shellcheck), unit tests and
#            recipe integration tests; make test-fast: the lint and the unit tests only.
#            Tests run in one pytest-xdist worker per core, a test file per worker (the
#            recipe tests share one recipe run per file).
VENV := tools/venv
PYTHON := $(VENV)/bin/python
DEMO_DIR := egs/dcase20/asd1

.PHONY: install demo test test-fast lint bench shellcheck clean-demo

install: tools/venv.done

tools/venv.done: tools/requirements.txt setup.py
	$(MAKE) -C tools

demo: install
	cd $(DEMO_DIR) && utils/run_trials.sh --num_trials 3 conf/train_stgram_mfn.demo.yaml \
		-- --nj 2 --segment_sec 1 --plot false --local_data_opts "--synth_duration 1"

test: install lint shellcheck
	$(PYTHON) -m pytest tests -q -rs -n auto --dist loadfile --durations=10 --timeout 1200

test-fast: install lint
	$(PYTHON) -m pytest tests -q -rs -n auto --dist loadfile -m "not recipe and not slow" --timeout 600

lint: install
	$(VENV)/bin/ruff check asd_lib tests

# Speed and memory ratios of the data path and training step, measured on this machine.
bench: install
	$(PYTHON) -m asd_lib.bin.benchmark --out bench.json --readme README.md

# Lints every shell script when shellcheck is installed (.ci/run installs it).
shellcheck:
	@if command -v shellcheck >/dev/null; then \
		shellcheck -x --source-path=SCRIPTDIR utils/*.sh egs/TEMPLATE/asd1/*.sh egs/*/asd1/run.sh \
			egs/*/asd1/cmd.sh egs/*/asd1/local/*.sh tests/slurm/*.sh .ci/run \
			&& echo "shellcheck: clean"; \
	else echo "shellcheck not installed: skipped (apt-get install shellcheck)"; fi

clean-demo:
	cd $(DEMO_DIR) && rm -rf corpus data dump exp
