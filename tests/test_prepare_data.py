"""Data preparation of the official DCASE 2020 layout, and the utt2class labeler."""
import re

import numpy as np
import pytest
import soundfile

from asd_lib.bin import make_labels as make_labels_bin
from asd_lib.bin import prepare_data as prepare_bin
from asd_lib.corpus.dcase2020 import layout as dcase2020
from asd_lib.corpus.labels import make_labels
from asd_lib.data.datadir import validate_data_dir
from asd_lib.utils.fileio import read_kv

# eval test: (eval name, original name, label) per machine
EVAL_ROWS = {
    "fan": [("id_01_00000000.wav", "anomaly_id_01_00000000.wav", 1),
            ("id_01_00000001.wav", "normal_id_01_00000000.wav", 0),
            ("id_03_00000000.wav", "normal_id_03_00000004.wav", 0)],
    "ToyConveyor": [("id_04_00000000.wav", "normal_id_04_00000000.wav", 0),
                    ("id_06_00000000.wav", "anomaly_id_06_00000007.wav", 1)],
}


def wav(path, samples=160):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.full(samples, 0.1), 16000, subtype="PCM_16")


def make_tree(root, eval_list=True):
    """fan: dev IDs 00, 02; ToyConveyor: dev ID 01. Tiny wavs, official names."""
    dev = {"fan": ("00", "02"), "ToyConveyor": ("01",)}
    extra = {"fan": ("01", "03"), "ToyConveyor": ("04", "06")}
    for m, ids in dev.items():
        for i in ids:
            for k in range(2):
                wav(root / f"dev_data/{m}/train/normal_id_{i}_{k:08d}.wav")
            wav(root / f"dev_data/{m}/test/normal_id_{i}_00000000.wav")
            wav(root / f"dev_data/{m}/test/anomaly_id_{i}_00000000.wav")
        for i in extra[m]:
            wav(root / f"eval_data/{m}/train/normal_id_{i}_00000000.wav")
        for name, _, _ in EVAL_ROWS[m]:
            wav(root / f"eval_data/{m}/test/{name}")
    if eval_list:
        dcase2020.write_eval_list(root / "eval_data_list.csv",
                                  [(m, *row) for m, rows in EVAL_ROWS.items() for row in rows])
    return root


@pytest.fixture
def corpus(tmp_path):
    return make_tree(tmp_path / "corpus")


def test_prepare_full(corpus, tmp_path):
    data = tmp_path / "data"
    # odd but harmless files are ignored
    (corpus / "dev_data/fan/test/.DS_Store").write_bytes(b"\0\1")
    (corpus / "dev_data/fan/train/._normal_id_00_00000000.wav").write_bytes(b"apple")
    (corpus / "dev_data/fan/train/README.txt").write_text("notes")
    (corpus / "dev_data/.DS_Store").write_bytes(b"\0")
    prepare_bin.main(["--dataset", "dcase2020", "--corpus_dir", str(corpus), "--data_dir", str(data)])

    train = read_kv(data / "train/utt2section")
    assert len(train) == 2 * 2 + 2 + 2 + 2  # fan dev 4, ToyConveyor dev 2, additional 2 + 2
    assert train["fan-normal_id_02_00000001"] == "id_02"
    assert train["ToyConveyor-normal_id_06_00000000"] == "id_06"
    assert set(read_kv(data / "train/utt2label").values()) == {"normal"}
    assert set(read_kv(data / "train/utt2domain").values()) == {"source"}
    scp = read_kv(data / "train/wav.scp")
    assert scp["fan-normal_id_00_00000000"] == str(corpus.resolve() / "dev_data/fan/train/normal_id_00_00000000.wav")

    labels = read_kv(data / "dev_test/utt2label")
    assert labels == {
        "ToyConveyor-anomaly_id_01_00000000": "anomaly", "ToyConveyor-normal_id_01_00000000": "normal",
        "fan-anomaly_id_00_00000000": "anomaly", "fan-anomaly_id_02_00000000": "anomaly",
        "fan-normal_id_00_00000000": "normal", "fan-normal_id_02_00000000": "normal",
    }
    # file order is LC_ALL=C: upper case (ToyConveyor) before lower case (fan)
    lines = (data / "dev_test/utt2machine").read_text().splitlines()
    assert lines[0] == "ToyConveyor-anomaly_id_01_00000000 ToyConveyor" and lines == sorted(lines)

    assert read_kv(data / "eval_test/utt2label") == {
        "ToyConveyor-id_04_00000000": "normal", "ToyConveyor-id_06_00000000": "anomaly",
        "fan-id_01_00000000": "anomaly", "fan-id_01_00000001": "normal", "fan-id_03_00000000": "normal",
    }
    for name in ("train", "dev_test", "eval_test"):
        assert validate_data_dir(data / name, require=("utt2machine", "utt2section", "utt2domain",
                                                       "utt2label"), check_audio=True) > 0
    assert not list(data.glob(".*"))  # no temporary folders left behind


def test_prepare_options(corpus, tmp_path):
    data = tmp_path / "data"
    counts = dcase2020.prepare_data(corpus, data, use_additional=False, machines=("fan",))
    assert counts == {"train": 4, "dev_test": 4, "eval_test": 3}
    assert set(read_kv(data / "train/utt2section").values()) == {"id_00", "id_02"}
    assert set(read_kv(data / "eval_test/utt2machine").values()) == {"fan"}

    # without the ground-truth list: eval_test has no utt2label, even over an older one
    (corpus / "eval_data_list.csv").unlink()
    dcase2020.prepare_data(corpus, data, machines=("fan",))
    assert (data / "eval_test/wav.scp").is_file() and not (data / "eval_test/utt2label").exists()


def test_prepare_without_eval_test(tmp_path):
    corpus = make_tree(tmp_path / "corpus", eval_list=False)
    for m in ("fan", "ToyConveyor"):
        for f in (corpus / f"eval_data/{m}/test").iterdir():
            f.unlink()
        (corpus / f"eval_data/{m}/test").rmdir()
    assert dcase2020.prepare_data(corpus, tmp_path / "data") == {"train": 10, "dev_test": 6}
    assert not (tmp_path / "data/eval_test").exists()


def _break(corpus, case):
    """Apply one kind of damage to a good tree; return a string the error must contain."""
    test = corpus / "dev_data/fan/test"
    if case == "bad_name":
        wav(test / "anomaly_id_0_00000009.wav")
        return "anomaly_id_0_00000009.wav"
    if case == "upper_case_wav":
        wav(test / "normal_id_00_00000009.WAV")
        return "normal_id_00_00000009.WAV"
    if case == "extra_machine":
        wav(corpus / "dev_data/drill/train/normal_id_00_00000000.wav")
        return "drill"
    if case == "wrong_id":
        wav(corpus / "dev_data/fan/train/normal_id_01_00000000.wav")
        return "normal_id_01_00000000.wav"
    if case == "zero_bytes":
        (test / "normal_id_00_00000005.wav").write_bytes(b"")
        return "normal_id_00_00000005.wav: empty file"
    if case == "unreadable":
        (test / "normal_id_00_00000006.wav").write_bytes(b"RIFF garbage that is no wav")
        return "normal_id_00_00000006.wav: unreadable"
    if case == "zero_samples":
        wav(test / "normal_id_00_00000007.wav", samples=0)
        return "normal_id_00_00000007.wav: wav has 0 samples"
    if case == "empty_set":
        for f in test.iterdir():
            f.unlink()
        return "dev_data/fan/test: no wav files"
    if case == "eval_row_without_file":
        (corpus / "eval_data/fan/test/id_03_00000000.wav").unlink()
        return "eval_data_list.csv:7: fan/id_03_00000000.wav has no file"
    if case == "eval_file_not_listed":
        wav(corpus / "eval_data/fan/test/id_03_00000001.wav")
        return "not listed"
    if case == "missing_additional":
        for f in (corpus / "eval_data/ToyConveyor/train").iterdir():
            f.unlink()
        (corpus / "eval_data/ToyConveyor/train").rmdir()
        return "--use_additional false"
    raise AssertionError(case)


@pytest.mark.parametrize("case", [
    "bad_name", "upper_case_wav", "extra_machine", "wrong_id", "zero_bytes", "unreadable",
    "zero_samples", "empty_set", "eval_row_without_file", "eval_file_not_listed",
    "missing_additional",
])
def test_prepare_rejects(corpus, tmp_path, case):
    expected = _break(corpus, case)
    with pytest.raises(ValueError, match=re.escape(expected)):
        dcase2020.prepare_data(corpus, tmp_path / "data")
    assert not (tmp_path / "data").exists()  # nothing written before every check passed


def test_missing_corpus_and_machine(tmp_path):
    with pytest.raises(ValueError, match="db.sh"):
        dcase2020.prepare_data(tmp_path / "nowhere", tmp_path / "data")
    corpus = make_tree(tmp_path / "corpus")
    with pytest.raises(ValueError, match=r"no folder for machine type\(s\) \['valve'\]"):
        dcase2020.prepare_data(corpus, tmp_path / "data", machines=("fan", "valve"))
    with pytest.raises(ValueError, match="unknown DCASE 2020 machine type"):
        dcase2020.parse_machines("fan,drill")
    assert dcase2020.parse_machines("valve, ToyCar") == ("ToyCar", "valve")


def test_duplicate_utterance_ids(tmp_path):
    clip = dcase2020.Clip("fan-normal_id_00_00000000", tmp_path / "a.wav", "fan", "id_00", "source",
                          None, "normal")
    with pytest.raises(ValueError, match="duplicate utterance id 'fan-normal_id_00_00000000' in set train"):
        dcase2020.check_unique("train", [clip, clip._replace(path=tmp_path / "b.wav")])


@pytest.mark.parametrize("text,message", [
    ("normal_id_01_00000000.wav,id_01_00000000.wav,0\n", "data row before any machine-type header"),
    ("drill\n", "not a DCASE 2020 machine type"),
    ("fan\nid_01_00000000.wav,anomaly_id_01_00000003.wav,0\n", "inconsistent"),
    ("fan\nid_01_00000000.wav,normal_id_03_00000003.wav,0\n", "inconsistent"),
    ("fan\nid_01_00000000.wav,normal_id_01_00000003.wav\n", "expected"),
    ("fan\nid_01_00000000.wav,normal_id_01_00000001.wav,0\nid_01_00000000.wav,normal_id_01_00000002.wav,0\n",
     "listed twice"),
    ("fan\n", "no data rows"),
])
def test_read_eval_list_rejects(tmp_path, text, message):
    path = tmp_path / "eval_data_list.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        dcase2020.read_eval_list(path)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])  # a spreadsheet's UTF-8 BOM
def test_read_eval_list_crlf(tmp_path, bom):
    path = tmp_path / "eval_data_list.csv"
    path.write_bytes(bom + b"ToyCar\r\nid_05_00000000.wav,normal_id_05_00000098.wav,0\r\n"
                     b"id_05_00000001.wav,anomaly_id_05_00000003.wav,1\r\n")
    rows = dcase2020.read_eval_list(path)
    assert [(r.machine, r.eval_name, r.original_name, r.label, r.lineno) for r in rows] == [
        ("ToyCar", "id_05_00000000.wav", "normal_id_05_00000098.wav", 0, 2),
        ("ToyCar", "id_05_00000001.wav", "anomaly_id_05_00000003.wav", 1, 3),
    ]


def test_make_labels(corpus, tmp_path):
    data = tmp_path / "data"
    dcase2020.prepare_data(corpus, data)
    make_labels_bin.main(["--scheme", "machine_section", str(data / "train"), str(data / "eval_test")])
    train = read_kv(data / "train/utt2class")
    assert sorted(set(train.values())) == ["ToyConveyor_id_01", "ToyConveyor_id_04", "ToyConveyor_id_06",
                                           "fan_id_00", "fan_id_01", "fan_id_02", "fan_id_03"]
    assert train["fan-normal_id_02_00000001"] == "fan_id_02"
    assert (data / "eval_test/utt2class").read_text().splitlines() == [
        "ToyConveyor-id_04_00000000 ToyConveyor_id_04", "ToyConveyor-id_06_00000000 ToyConveyor_id_06",
        "fan-id_01_00000000 fan_id_01", "fan-id_01_00000001 fan_id_01", "fan-id_03_00000000 fan_id_03",
    ]
    assert not (data / "dev_test/utt2class").exists()
    validate_data_dir(data / "train", require=("utt2class",))

    with pytest.raises(SystemExit):
        make_labels_bin.main(["--scheme", "no_such_scheme", str(data / "train")])
    (data / "dev_test/utt2section").unlink()
    with pytest.raises(ValueError, match="utt2section: missing"):
        make_labels(data / "dev_test", "machine_section")
