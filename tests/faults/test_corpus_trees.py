"""Corpus trees as other tools leave them, given to data preparation (stage 1).

The official baseline's download scripts unpack the archives into ``dev_data/raw/<M>`` and
``eval_data/raw/<M>``: data preparation takes that tree as it takes the archives' own
(``dev_data/<M>``), logs which one it found, and writes the same data dirs.
"""
import logging
import shutil

import pytest

import test_prepare_data
import test_prepare_data2024
from asd_lib.bin import prepare_data
from asd_lib.utils.fileio import read_kv
from faultkit import fault, snapshot

TREES = {"dcase2020": test_prepare_data.make_tree, "dcase2024": test_prepare_data2024.make_tree}


def into_raw(corpus) -> None:
    """Move every machine-type folder one level down into raw/, beside the baseline's own
    processed/ folder and the downloaded zip files."""
    for split in ("dev_data", "eval_data"):
        top = corpus / split
        (top / "raw").mkdir()
        for machine in [p for p in top.iterdir() if p.name != "raw"]:
            machine.rename(top / "raw" / machine.name)
            (top / "raw" / f"dev_{machine.name}.zip").write_bytes(b"PK\5\6" + bytes(18))
        (top / "processed").mkdir()


def prepare(dataset, corpus, data):
    prepare_data.main(["--dataset", dataset, "--corpus_dir", str(corpus), "--data_dir",
                       str(data)])


@fault("the official baseline's download tree (`dev_data/raw/<M>`)", 'handled and logged',
       'read like the archive tree; the layout found is logged')
@pytest.mark.parametrize("dataset", sorted(TREES))
def test_baseline_download_tree_gives_the_same_data_dirs(tmp_path, monkeypatch, caplog,
                                                          dataset):
    monkeypatch.setattr(prepare_data, "setup_logging", lambda verbose: None)
    flat, raw = TREES[dataset](tmp_path / "flat"), TREES[dataset](tmp_path / "raw")
    into_raw(raw)
    prepare(dataset, flat, tmp_path / "data_flat")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        prepare(dataset, raw, tmp_path / "data_raw")
    for split in ("dev_data", "eval_data"):
        assert (f"{raw / split}: machine-type folders in raw/ (the layout of the official "
                "baseline's download scripts)") in caplog.messages
    made, expected = snapshot(tmp_path / "data_raw"), snapshot(tmp_path / "data_flat")
    assert sorted(made) == sorted(expected)
    for name in expected:
        if not name.endswith("wav.scp"):
            assert made[name] == expected[name], name
    for name in (n for n in expected if n.endswith("wav.scp")):
        wavs = read_kv(tmp_path / "data_raw" / name)
        assert wavs == {utt: path.replace(f"{flat.resolve()}/dev_data/",
                                          f"{raw.resolve()}/dev_data/raw/")
                        .replace(f"{flat.resolve()}/eval_data/", f"{raw.resolve()}/eval_data/raw/")
                        for utt, path in read_kv(tmp_path / "data_flat" / name).items()}


@fault('machine-type folders both in `dev_data/` and `dev_data/raw/`', 'clear error',
       'names both places and the fix; nothing written')
def test_both_trees_at_once_is_an_error(tmp_path):
    corpus = test_prepare_data2024.make_tree(tmp_path / "corpus")
    (corpus / "dev_data/raw").mkdir()
    shutil.move(corpus / "dev_data/fan", corpus / "dev_data/raw/fan")
    with pytest.raises(ValueError) as err:
        prepare("dcase2024", corpus, tmp_path / "data")
    assert str(err.value) == (
        f"{corpus / 'dev_data'}: machine-type folders both directly inside (gearbox) and in "
        f"raw/; keep one layout: move them all into {corpus / 'dev_data/raw'} or all out of it")
    assert not (tmp_path / "data").exists()
