"""Every registered corpus works through the registry alone: its synthetic corpus (one
machine type, short clips) goes through its data preparation, fabricated scores through
its official scorer, and the result has the corpus's headline numbers."""
import dataclasses
import json

import numpy as np
import pytest

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.data.datadir import clip_file_name
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
