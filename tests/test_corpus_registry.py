"""Every registered corpus works through the registry alone: its synthetic corpus (one
machine type, short clips) goes through its data preparation, fabricated scores through
its official scorer, and the result has the corpus's headline numbers. The 2021-2025
corpora are each built by one factory from their year's layout and synthetic modules."""
import ast
import dataclasses
import importlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

import asd_lib.corpus as corpus_package
from asd_lib.corpus import CORPORA, get_corpus, section_prepare, section_synthetic
from asd_lib.corpus.section_layout import LAYOUTS
from asd_lib.data.datadir import clip_file_name
from asd_lib.metrics import dcase2021, domain_shift
from asd_lib.utils.fileio import read_kv


@pytest.mark.parametrize("name", CORPORA.names())
def test_corpus_from_synthesis_to_official_scores(name, tmp_path):
    corpus = get_corpus(name)
    machine = corpus.machine_types[0]
    sizes = dataclasses.replace(corpus.synthetic.sizes(), duration=0.2)
    count = corpus.synthetic.write(tmp_path / "corpus", 0, sizes, (machine,), (0.5, 1.0), 1)
    options = {option: True for option in corpus.prepare_options}  # every set is written
    counts = corpus.prepare_data(tmp_path / "corpus", tmp_path / "data", True, (machine,),
                                 **options)
    files = {path for name in counts for path in read_kv(tmp_path / "data" / name / "wav.scp")
             .values()}
    assert len(files) == count  # every file in a set (some, as options ask, in two)
    test = tmp_path / "data" / "dev_test"
    wavs, sections = read_kv(test / "wav.scp"), read_kv(test / "utt2section")
    labels = read_kv(test / "utt2label")
    rng = np.random.default_rng(0)
    rows = {}
    for utt, wav in wavs.items():  # anomalies score higher, with some overlap
        score = rng.normal(1.0 if labels[utt] == "anomaly" else 0.0)
        clip = clip_file_name(wav)
        for kind, value in (("anomaly_score", score), ("decision_result", int(score > 0.5))):
            rows.setdefault(corpus.csv_name(kind, machine, sections[utt], clip), []).append(
                f"{clip},{value}\n")
    score_dir = tmp_path / "scores"
    score_dir.mkdir()
    for file_name, lines in rows.items():
        (score_dir / file_name).write_text("".join(lines))
    scorer = corpus.scorer
    result = scorer.evaluate(test, score_dir, scorer.protocols[0])
    written = scorer.write_results(result, score_dir)
    assert sorted(p.name for p in written) == ["result.csv", "result.json", "result.md"]
    numbers = json.loads((score_dir / "result.json").read_text())
    assert numbers["dataset"] == name
    for title, keys in scorer.headline:
        value = numbers
        for key in keys:
            value = value[key]
        assert 0.5 < value <= 1.0, (title, value)  # the fabricated scores beat chance
    assert machine in scorer.format_markdown(result)


SECTION_CORPORA = {  # name -> (title, machine types, prepare_data's own options)
    "dcase2021": ("DCASE 2021 Task 2", 7, ()),
    "dcase2022": ("DCASE 2022 Task 2", 7, ()),
    "dcase2023": ("DCASE 2023 Task 2", 14, ("separate_eval_train",)),
    "dcase2024": ("DCASE 2024 Task 2", 16, ("separate_eval_train",)),
    "dcase2025": ("DCASE 2025 Task 2", 15, ("separate_eval_train", "supplemental",
                                            "supplemental_in_train")),
}


@pytest.mark.parametrize("name", SECTION_CORPORA)
def test_a_section_corpus_is_built_from_its_year(name):
    """section_corpus makes a year's Corpus from its layout, synthetic module and scorer."""
    title, types, options = SECTION_CORPORA[name]
    corpus, layout = get_corpus(name), LAYOUTS[name]
    synthetic = importlib.import_module(f"asd_lib.corpus.{name}.synthetic")
    year_layout = importlib.import_module(f"asd_lib.corpus.{name}.layout")
    assert layout is year_layout.LAYOUT and corpus.name == layout.name == name
    assert corpus.title == title and corpus.test_sets == ("dev_test", "eval_test")
    assert corpus.machine_types == year_layout.MACHINE_TYPES and len(corpus.machine_types) == types
    assert corpus.prepare_options == options
    assert corpus.label_scheme == ("machine_section" if name == "dcase2021"
                                   else "machine_section_attr")
    assert corpus.parse_machines("valve,fan") == ("fan", "valve")
    assert corpus.remote_files() == layout.remote_files()
    assert corpus.validators().keys() == layout.validators().keys()
    assert corpus.prepare_data.func is section_prepare.prepare_data
    assert corpus.prepare_data.args == (layout,)
    assert corpus.synthetic.write.func is section_synthetic.write_corpus
    assert corpus.synthetic.write.args == (layout, synthetic.TYPE_MODELS)
    assert set(synthetic.TYPE_MODELS) == set(corpus.machine_types)
    sizes = getattr(synthetic, f"Dcase{name[-4:]}Sizes")
    assert corpus.synthetic.sizes is sizes and corpus.synthetic.official == synthetic.OFFICIAL_SIZES
    metrics = dcase2021 if name == "dcase2021" else domain_shift
    assert corpus.scorer.protocols == metrics.PROTOCOLS
    assert corpus.scorer.headline == domain_shift.HEADLINE


def test_the_development_types_sound_alike_every_year_from_2022():
    """2022, 2023 and 2025 take the shared development types as they are; 2024 numbers
    ToyCar and ToyTrain from 0001 with longer clips."""
    for name in ("dcase2022", "dcase2023", "dcase2025"):
        models = importlib.import_module(f"asd_lib.corpus.{name}.synthetic").TYPE_MODELS
        for machine, model in section_synthetic.DEV_TYPE_MODELS.items():
            expected = dataclasses.replace(model, supplemental=models[machine].supplemental)
            assert models[machine] == expected, (name, machine)
    models = importlib.import_module("asd_lib.corpus.dcase2024.synthetic").TYPE_MODELS
    for machine, model in section_synthetic.DEV_TYPE_MODELS.items():
        toy = machine in ("ToyCar", "ToyTrain")
        assert models[machine] == dataclasses.replace(model, start=int(toy), long_clips=toy)


def test_no_year_imports_another_year():
    """What years share lives in the section_* modules, not in another year's package."""
    root = Path(corpus_package.__file__).parent
    for path in sorted(root.glob("dcase20[0-9][0-9]/*.py")):
        year = path.parent.name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                other = re.match(r"asd_lib\.corpus\.(dcase\d{4})", node.module)
                assert other is None or other.group(1) == year, (path, node.module)
