"""Corpus trees as other tools leave them, given to data preparation (stage 1).

The official baseline's download scripts unpack the archives into ``dev_data/raw/<M>`` and
``eval_data/raw/<M>``: data preparation takes that tree as it takes the archives' own
(``dev_data/<M>``), logs which one it found, and writes the same data dirs.
"""
import logging
import shutil

import pytest
from faultkit import fault, snapshot

import test_prepare_data
import test_prepare_data2024
from asd_lib.bin import prepare_data
from asd_lib.utils.fileio import read_kv

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


MISSING_EVAL_TEST = {"dcase2020": ("fan", "ToyConveyor"), "dcase2024": ("RoboticArm", "BrushlessMotor")}


@fault('no eval test folder for one machine type', 'handled and logged',
       'one warning naming the folder; eval_test holds the other types, labelled')
@pytest.mark.parametrize("dataset", sorted(TREES))
def test_missing_eval_test_folder_of_one_type_is_one_warning(tmp_path, monkeypatch, caplog,
                                                            dataset):
    monkeypatch.setattr(prepare_data, "setup_logging", lambda verbose: None)
    corpus = TREES[dataset](tmp_path / "corpus")
    without, other = MISSING_EVAL_TEST[dataset]
    shutil.rmtree(corpus / "eval_data" / without / "test")
    with caplog.at_level(logging.INFO):
        prepare(dataset, corpus, tmp_path / "data")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [m for m in warnings if not m.startswith("only ")] == [
        f"no eval test folder {corpus / 'eval_data' / without / 'test'}; eval_test covers the "
        "other machine types only"]
    eval_test = tmp_path / "data" / "eval_test"
    assert set(read_kv(eval_test / "utt2machine").values()) == {other}
    assert sorted(read_kv(eval_test / "utt2label")) == sorted(read_kv(eval_test / "wav.scp"))


@fault('an evaluation list that is not UTF-8 (stage 1)', 'clear error',
       'names the file, the line and the fix')
@pytest.mark.parametrize("dataset", sorted(TREES))
def test_eval_list_that_is_not_utf8_names_the_file_and_the_fix(tmp_path, dataset):
    corpus = TREES[dataset](tmp_path / "corpus")
    (eval_list,) = corpus.glob("eval_data_list*.csv")
    text = eval_list.read_bytes().decode("ascii")
    lines = text.splitlines(keepends=True)
    # Re-saved by a spreadsheet as Latin-1, with a note on line 3.
    eval_list.write_bytes("".join(lines[:2] + ["note: vérifié\n"] + lines[2:]).encode("latin-1"))
    with pytest.raises(ValueError) as err:
        prepare(dataset, corpus, tmp_path / "data")
    assert str(err.value) == (
        f"{eval_list}:3: not UTF-8 text (byte 0xe9); re-download {eval_list.name}, or save it "
        "again as UTF-8 (or ASCII) text")
    assert not (tmp_path / "data").exists()
