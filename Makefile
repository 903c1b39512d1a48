# Two commands: `make report` (build everything, run the study) and `make test`.
# CORPUS and OUT are quoted where used: paths with spaces work (make report CORPUS="my corpus").
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORPUS ?= corpus/raw
OUT    ?= reports
# A table corpus (.csv/.jsonl/.parquet): the columns holding text, id and genre (empty: `text`, row numbers,
# a `genre` column when there is one). GOLD: a hand-coded sheet from `python -m helpers sample`.
TEXT_COLUMN  ?=
ID_COLUMN    ?=
GENRE_COLUMN ?=
GOLD         ?=
REPORT_OPTIONS = $(if $(TEXT_COLUMN),--text-column "$(TEXT_COLUMN)") $(if $(ID_COLUMN),--id-column "$(ID_COLUMN)") \
                 $(if $(GENRE_COLUMN),--genre-column "$(GENRE_COLUMN)") $(if $(GOLD),--gold "$(GOLD)")

.PHONY: install report report-pdf test notebooks clean-outputs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 setuptools==84.2.1
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

report: install
	$(BIN)/python -m helpers report --corpus "$(CORPUS)" --out "$(OUT)" $(REPORT_OPTIONS)

test: install
	$(BIN)/python -m pytest

# The same report printed to PDF by headless Chromium (Debian's chromium; installed by the tests when missing).
report-pdf: report
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -c "import sys; from helpers.report import print_pdf; print(print_pdf(sys.argv[1], sys.argv[2]))" \
	  "$(OUT)/study.html" "$(OUT)/study.pdf"

# Re-execute every notebook in place (after changing code or lexicons), so nbval has fresh outputs.
notebooks: install
	for nb in notebooks/[0-9]*.ipynb; do \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

clean-outputs:
	rm -rf reports/figures reports/executed reports/study.html reports/study.pdf corpus/processed
