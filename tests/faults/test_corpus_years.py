"""Development-only corpora of 2023, 2024 and 2025 (no ``eval_data/``), given to their own
year's data preparation and to the other two years'.

The three years share their seven development types, folders and name grammar; which
types hide their attributes (names ending ``_noAttribute``) tells them apart: none in
2023, gearbox (and slider, ToyTrain) in 2024, bearing (and slider, ToyTrain) in 2025. Each
corpus here holds bearing and gearbox, made by the synthetic corpus of its year, which
follows those rules.
"""
import logging

import pytest
from faultkit import fault

from asd_lib.bin import make_synthetic, prepare_data
from asd_lib.utils.fileio import read_kv

YEARS = ("dcase2023", "dcase2024", "dcase2025")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("years")
    for year in YEARS:
        make_synthetic.main(["--layout", year, "--out", str(root / year), "--machines",
                             "bearing,gearbox", "--duration", "0.1", "--source_train", "6",
                             "--target_train", "4", "--test_per_condition", "1", "--nj", "1",
                             "--verbose", "0"])
    return root


def prepare(dataset, corpus, data):
    prepare_data.main(["--dataset", dataset, "--corpus_dir", str(corpus), "--data_dir",
                       str(data), "--verbose", "0"])


# (corpus, recipe): (machine whose names tell, what they do, what the recipe's year does,
# the years whose rules the names follow)
OTHER_YEAR = {
    ("dcase2023", "dcase2024"): ("gearbox", "show", "hides", "DCASE 2022 and DCASE 2023"),
    ("dcase2023", "dcase2025"): ("bearing", "show", "hides", "DCASE 2022 and DCASE 2023"),
    ("dcase2024", "dcase2023"): ("gearbox", "hide", "shows", "DCASE 2024"),
    ("dcase2024", "dcase2025"): ("bearing", "show", "hides", "DCASE 2024"),
    ("dcase2025", "dcase2023"): ("bearing", "hide", "shows", "DCASE 2025"),
    ("dcase2025", "dcase2024"): ("bearing", "hide", "shows", "DCASE 2025"),
}


@fault("a development-only corpus of 2023, 2024 or 2025 given to another of those years' "
       "recipes", "clear error", "the types whose names hide their attributes tell the year: "
       "names a file, the years it matches and the fix; nothing written")
@pytest.mark.parametrize("corpus_year,recipe_year", sorted(OTHER_YEAR))
def test_another_years_development_corpus_is_refused(corpora, tmp_path, corpus_year,
                                                     recipe_year):
    machine, names, rule, matching = OTHER_YEAR[corpus_year, recipe_year]
    first = min((corpora / corpus_year / "dev_data" / machine / "train").glob("*.wav"))
    title = f"DCASE {recipe_year[-4:]}"
    with pytest.raises(ValueError) as err:
        prepare(recipe_year, corpora / corpus_year, tmp_path / "data")
    assert str(err.value) == (
        f"{first.resolve()}: the {machine} train names {names} their attributes, but {title} "
        f"{rule} them: this is not a {title} corpus; the names match {matching}. Point "
        f"{recipe_year.upper()} in db.sh (or --corpus_dir) at the {title} corpus, or use its "
        "own year's recipe")
    assert not (tmp_path / "data").exists()


@fault("no `eval_data/` in a 2023, 2024 or 2025 corpus", "handled and logged",
       "one warning: a development-only corpus, no eval_test and no additional training "
       "clips of the evaluation types")
@pytest.mark.parametrize("year", YEARS)
def test_a_development_only_corpus_is_one_warning(corpora, tmp_path, monkeypatch, caplog, year):
    monkeypatch.setattr(prepare_data, "setup_logging", lambda verbose: None)
    num_eval_types = {"dcase2023": 7, "dcase2024": 9, "dcase2025": 8}[year]
    with caplog.at_level(logging.INFO):
        prepare(year, corpora / year, tmp_path / "data")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{corpora / year}: no eval_data/ folder, a development-only corpus: no eval_test and no "
        f"additional training clips of the {num_eval_types} evaluation types (2 of 7 "
        "development types found: bearing gearbox)"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["dev_test", "train"]
    assert set(read_kv(tmp_path / "data/train/utt2machine").values()) == {"bearing", "gearbox"}
