"""DCASE 2024 data preparation on fabricated official trees (every naming irregularity), the
eval ground-truth list, and the download of the 2024 archives from a local HTTP server."""
import http.server
import io
import re
import shutil
import threading
import zipfile

import numpy as np
import pytest
import soundfile

from asd_lib.bin import download as download_bin
from asd_lib.bin import prepare_data as prepare_bin
from asd_lib.corpus import get_corpus
from asd_lib.corpus.dcase2024 import layout as dcase2024
from asd_lib.corpus.download import check_zip
from asd_lib.corpus.ground_truth import GROUND_TRUTH_DIR, write_files
from asd_lib.data.datadir import validate_data_dir
from asd_lib.utils.fileio import read_kv
from truth_helpers import fake_evaluator_files

FAN_TRAIN = ["section_00_source_train_normal_0000_m-n_W.wav", "section_00_source_train_normal_0001_m-n_X.wav",
             "section_00_target_train_normal_0000_m-n_Y.wav"]
FAN_TEST = ["section_00_source_test_normal_0000_m-n_W.wav", "section_00_source_test_anomaly_0000_m-n_X.wav",
            "section_00_target_test_normal_0000_m-n_Y.wav", "section_00_target_test_anomaly_0000_m-n_Y.wav"]
prepare_2024 = get_corpus("dcase2024").prepare_data
GEARBOX_TRAIN = ["section_00_source_train_normal_0001_noAttribute.wav",  # index starts at 0001
                 "section_00_target_train_normal_0001_noAttribute.wav"]
GEARBOX_TEST = ["section_00_source_test_anomaly_0001_noAttribute.wav", "section_00_target_test_normal_0001_noAttribute.wav"]
ARM_TRAIN = ["section_00_source_train_normal_0000_weight15_BckgF.wav",
             "section_00_target_train_normal_0050_weight35_BckgE.wav"]
MOTOR_TRAIN = ["section_00_source_train_normal_0000_noAttribute.wav",
               "section_00_target_train_normal_0050_noAttribute.wav"]
EVAL_ROWS = {  # eval name -> full name; RoboticArm without "test", BrushlessMotor numbered from 0001
    "RoboticArm": [("section_00_0000.wav", "section_00_source_normal_0035_weight15_BckgF.wav"),
                   ("section_00_0001.wav", "section_00_target_anomaly_0059_weight25_BckgE.wav")],
    "BrushlessMotor": [("section_00_0001.wav", "section_00_source_test_anomaly_0007_spd1000_BckgF.wav"),
                       ("section_00_0002.wav", "section_00_target_test_normal_0051_spd1100_BckgB.wav")],
}


def wav(path, samples=160):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.full(samples, 0.1), 16000, subtype="PCM_16")


def eval_list_bytes(rows=EVAL_ROWS) -> bytes:
    lines = []
    for machine, pairs in rows.items():
        lines.append(machine)
        lines += [f"{a},{b}" for a, b in pairs]
    return ("\r\n".join(lines) + "\r\n").encode()  # the official file has CRLF line endings


def make_tree(root, eval_list=True):
    """A fabricated DCASE 2024 tree as stage 0 leaves it: archives, the evaluation list and
    the official evaluator's ground truth (the labels and domains of the list's full names)."""
    for folder, names in (("dev_data/fan/train", FAN_TRAIN), ("dev_data/fan/test", FAN_TEST),
                          ("dev_data/gearbox/train", GEARBOX_TRAIN), ("dev_data/gearbox/test", GEARBOX_TEST),
                          ("eval_data/RoboticArm/train", ARM_TRAIN),
                          ("eval_data/BrushlessMotor/train", MOTOR_TRAIN)):
        for name in names:
            wav(root / folder / name)
    for machine, pairs in EVAL_ROWS.items():
        for eval_name, _ in pairs:
            wav(root / "eval_data" / machine / "test" / eval_name)
    (root / "dev_data/fan/attributes_00.csv").write_text("file_name,d1p,d1v\n")
    if eval_list:
        (root / "eval_data_list_2024.csv").write_bytes(eval_list_bytes())
    truth = [(machine, "00", eval_name, clip.label, clip.domain)
             for machine, pairs in EVAL_ROWS.items() for eval_name, full in pairs
             for clip in [dcase2024.LAYOUT.parse_clip_name(full)]]
    write_files(root / GROUND_TRUTH_DIR, False, truth)
    return root


@pytest.fixture
def corpus(tmp_path):
    return make_tree(tmp_path / "corpus")


def test_prepare_full(corpus, tmp_path):
    data = tmp_path / "data"
    (corpus / "dev_data/fan/test/.DS_Store").write_bytes(b"\0")
    prepare_bin.main(["--dataset", "dcase2024", "--corpus_dir", str(corpus), "--data_dir", str(data)])
    assert sorted(p.name for p in data.iterdir()) == ["dev_test", "eval_test", "train"]

    attr = read_kv(data / "train/utt2attr")
    assert attr == {
        "BrushlessMotor-section_00_source_train_normal_0000_noAttribute": "noAttribute",
        "BrushlessMotor-section_00_target_train_normal_0050_noAttribute": "noAttribute",
        "RoboticArm-section_00_source_train_normal_0000_weight15_BckgF": "weight15_BckgF",
        "RoboticArm-section_00_target_train_normal_0050_weight35_BckgE": "weight35_BckgE",
        "fan-section_00_source_train_normal_0000_m-n_W": "m-n_W",
        "fan-section_00_source_train_normal_0001_m-n_X": "m-n_X",
        "fan-section_00_target_train_normal_0000_m-n_Y": "m-n_Y",
        "gearbox-section_00_source_train_normal_0001_noAttribute": "noAttribute",
        "gearbox-section_00_target_train_normal_0001_noAttribute": "noAttribute",
    }
    assert read_kv(data / "train/utt2domain")["gearbox-section_00_target_train_normal_0001_noAttribute"] == "target"
    assert set(read_kv(data / "train/utt2section").values()) == {"section_00"}
    assert set(read_kv(data / "train/utt2label").values()) == {"normal"}
    assert read_kv(data / "train/wav.scp")["fan-section_00_source_train_normal_0000_m-n_W"] == str(
        corpus.resolve() / "dev_data/fan/train" / FAN_TRAIN[0])

    labels = read_kv(data / "dev_test/utt2label")
    assert labels == {f"fan-{n[:-4]}": n.split("_")[4] for n in FAN_TEST} | {
        f"gearbox-{n[:-4]}": n.split("_")[4] for n in GEARBOX_TEST}
    assert read_kv(data / "dev_test/utt2machine")["gearbox-section_00_source_test_anomaly_0001_noAttribute"] == "gearbox"

    # eval test: utterance IDs take the full names, wav.scp keeps the real short-named files
    scp = read_kv(data / "eval_test/wav.scp")
    assert scp == {
        "BrushlessMotor-section_00_source_test_anomaly_0007_spd1000_BckgF":
            str(corpus.resolve() / "eval_data/BrushlessMotor/test/section_00_0001.wav"),
        "BrushlessMotor-section_00_target_test_normal_0051_spd1100_BckgB":
            str(corpus.resolve() / "eval_data/BrushlessMotor/test/section_00_0002.wav"),
        "RoboticArm-section_00_source_normal_0035_weight15_BckgF":
            str(corpus.resolve() / "eval_data/RoboticArm/test/section_00_0000.wav"),
        "RoboticArm-section_00_target_anomaly_0059_weight25_BckgE":
            str(corpus.resolve() / "eval_data/RoboticArm/test/section_00_0001.wav"),
    }
    assert list(read_kv(data / "eval_test/utt2label").values()) == ["anomaly", "normal", "normal", "anomaly"]
    assert list(read_kv(data / "eval_test/utt2domain").values()) == ["source", "target", "source", "target"]
    assert list(read_kv(data / "eval_test/utt2attr").values()) == [
        "spd1000_BckgF", "spd1100_BckgB", "weight15_BckgF", "weight25_BckgE"]
    for name in ("train", "dev_test", "eval_test"):
        assert validate_data_dir(data / name, require=("utt2machine", "utt2section", "utt2domain",
                                                       "utt2attr", "utt2label"), check_audio=True) > 0
    assert not list(data.glob(".*"))


def test_prepare_options(corpus, tmp_path):
    data = tmp_path / "data"
    counts = prepare_2024(corpus, data, separate_eval_train=True)
    assert counts == {"train": 5, "dev_test": 6, "eval_train": 4, "eval_test": 4}
    assert set(read_kv(data / "eval_train/utt2machine").values()) == {"RoboticArm", "BrushlessMotor"}
    assert set(read_kv(data / "train/utt2machine").values()) == {"fan", "gearbox"}

    counts = prepare_2024(corpus, data, use_additional=False, machines=("fan", "RoboticArm"))
    assert counts == {"train": 3, "dev_test": 4, "eval_test": 2}
    assert not (data / "eval_train").exists()  # not made by this run: removed

    # without the list: short utterance IDs; the evaluator's ground truth gives domain and
    # label, nothing gives attributes
    (corpus / "eval_data_list_2024.csv").unlink()
    prepare_2024(corpus, data, machines=("RoboticArm",))
    assert read_kv(data / "eval_test/utt2label") == {"RoboticArm-section_00_0000": "normal",
                                                     "RoboticArm-section_00_0001": "anomaly"}
    assert not (data / "eval_test/utt2attr").exists()
    # without either: no domain / attributes / labels
    shutil.rmtree(corpus / "ground_truth")
    prepare_2024(corpus, data, machines=("RoboticArm",))
    assert sorted(p.name for p in (data / "eval_test").iterdir()) == ["utt2machine", "utt2section", "wav.scp"]
    assert list(read_kv(data / "eval_test/wav.scp")) == ["RoboticArm-section_00_0000", "RoboticArm-section_00_0001"]
    with pytest.raises(ValueError, match="--separate_eval_train does not apply to dcase2020"):
        prepare_bin.main(["--dataset", "dcase2020", "--corpus_dir", str(corpus), "--data_dir",
                          str(data), "--separate_eval_train", "true"])


def _break(corpus, case):
    """Damage a good tree in one way; return a string the error must contain."""
    if case == "three_digit_index":
        wav(corpus / "dev_data/fan/train/section_00_source_train_normal_002_m-n_W.wav")
        return "section_00_source_train_normal_002_m-n_W.wav: name does not follow"
    if case == "no_attributes":
        wav(corpus / "dev_data/fan/train/section_00_source_train_normal_0002.wav")
        return "section_00_source_train_normal_0002.wav: name does not follow"
    if case == "test_name_in_train":
        wav(corpus / "dev_data/fan/train/section_00_source_test_normal_0002_m-n_W.wav")
        return "train/section_00_source_test_normal_0002_m-n_W.wav: name does not follow"
    if case == "train_name_in_test":
        wav(corpus / "dev_data/fan/test/section_00_source_train_normal_0002_m-n_W.wav")
        return "test/section_00_source_train_normal_0002_m-n_W.wav: name does not follow"
    if case == "anomaly_in_train":
        wav(corpus / "dev_data/gearbox/train/section_00_source_train_anomaly_0002_noAttribute.wav")
        return "an anomalous clip in a training folder"
    if case == "other_section":
        wav(corpus / "dev_data/fan/test/section_01_source_test_normal_0000_m-n_W.wav")
        return "section_01_source_test_normal_0000_m-n_W.wav: section 01"
    if case == "eval_type_in_dev_data":
        wav(corpus / "dev_data/RoboticArm/train/" / ARM_TRAIN[0])
        return "RoboticArm belong(s) in eval_data/"
    if case == "full_name_in_eval_test":
        wav(corpus / "eval_data/RoboticArm/test/section_00_source_test_normal_0000_weight15_BckgF.wav")
        return "section_00_source_test_normal_0000_weight15_BckgF.wav: name does not follow"
    if case == "eval_file_not_listed":
        wav(corpus / "eval_data/RoboticArm/test/section_00_0002.wav")
        return "not listed, e.g."
    if case == "eval_row_without_file":
        (corpus / "eval_data/BrushlessMotor/test/section_00_0002.wav").unlink()
        return "eval_data_list_2024.csv:6: BrushlessMotor/section_00_0002.wav has no file"
    if case == "missing_additional":
        for f in (corpus / "eval_data/BrushlessMotor/train").iterdir():
            f.unlink()
        return "BrushlessMotor/train: no wav files"
    if case == "zero_bytes":
        (corpus / "dev_data/fan/test" / FAN_TEST[1]).write_bytes(b"")
        return f"{FAN_TEST[1]}: empty file"
    raise AssertionError(case)


@pytest.mark.parametrize("case", [
    "three_digit_index", "no_attributes", "test_name_in_train", "train_name_in_test",
    "anomaly_in_train", "other_section", "eval_type_in_dev_data", "full_name_in_eval_test",
    "eval_file_not_listed", "eval_row_without_file", "missing_additional", "zero_bytes",
])
def test_prepare_rejects(corpus, tmp_path, case):
    expected = _break(corpus, case)
    with pytest.raises(ValueError, match=re.escape(expected)):
        prepare_2024(corpus, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_missing_corpus(tmp_path):
    with pytest.raises(ValueError, match="db.sh"):
        prepare_2024(tmp_path / "nowhere", tmp_path / "data")
    corpus = make_tree(tmp_path / "corpus")
    with pytest.raises(ValueError, match=r"no folder for machine type\(s\) \['valve'\]"):
        prepare_2024(corpus, tmp_path / "data", machines=("fan", "valve"))
    assert dcase2024.LAYOUT.parse_machines("RoboticArm, fan") == ("fan", "RoboticArm")


# --------------------------------------------------------------------------- eval list
def test_read_eval_list_official_rows(tmp_path):
    """Rows as in the official file (3DPrinter numbered from 0001, ToyCircuit from 0000,
    RoboticArm without "test"), CRLF line endings and a UTF-8 BOM."""
    path = tmp_path / "list.csv"
    path.write_bytes(b"\xef\xbb\xbf3DPrinter\r\n"
                     b"section_00_0001.wav,section_00_target_test_anomaly_0001_mdl_B_spd_2.wav\r\n"
                     b"ToyCircuit\r\nsection_00_0000.wav,section_00_target_test_normal_0032_id_C2_spd_4_mic_2.wav\r\n"
                     b"RoboticArm\r\nsection_00_0003.wav,section_00_target_anomaly_0059_weight25_BckgE.wav\r\n")
    rows = dcase2024.LAYOUT.read_eval_list(path)
    assert [(r.machine, r.eval_name, r.clip.domain, r.clip.split, r.clip.label, r.clip.index, r.clip.attr,
             r.lineno) for r in rows] == [
        ("3DPrinter", "section_00_0001.wav", "target", "test", "anomaly", 1, "mdl_B_spd_2", 2),
        ("ToyCircuit", "section_00_0000.wav", "target", "test", "normal", 32, "id_C2_spd_4_mic_2", 4),
        ("RoboticArm", "section_00_0003.wav", "target", None, "anomaly", 59, "weight25_BckgE", 6),
    ]
    out = tmp_path / "written.csv"
    dcase2024.LAYOUT.write_eval_list(out, [(r.machine, r.eval_name, r.full_name) for r in rows])
    assert out.read_bytes() == path.read_bytes()[3:]


@pytest.mark.parametrize("text,message", [
    ("section_00_0000.wav,section_00_source_test_normal_0000_a_1.wav\n", "data row before any machine-type header"),
    ("fan\n", "not a DCASE 2024 evaluation machine type"),
    ("ToyCircuit\nsection_00_0000.wav,section_00_source_test_normal_0000_a_1.wav,0\n", "expected"),
    ("ToyCircuit\nsection_00_0000.wav,section_00_source_train_normal_0000_a_1.wav\n", "malformed row"),
    ("ToyCircuit\nid_00_00000000.wav,section_00_source_test_normal_0000_a_1.wav\n", "malformed row"),
    ("ToyCircuit\nsection_01_0000.wav,section_00_source_test_normal_0000_a_1.wav\n", "inconsistent"),
    ("ToyCircuit\nsection_00_0000.wav,section_00_source_test_normal_0000_a_1.wav\n"
     "section_00_0001.wav,section_00_source_test_normal_0000_a_1.wav\n", "listed twice"),
    ("HairDryer\n", "no data rows"),
])
def test_read_eval_list_rejects(tmp_path, text, message):
    path = tmp_path / "list.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        dcase2024.LAYOUT.read_eval_list(path)


# --------------------------------------------------------------------------- download
def zip_bytes(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in members:
            data = io.BytesIO()
            soundfile.write(data, np.full(64, 0.1), 16000, subtype="PCM_16", format="WAV")
            z.writestr(name, data.getvalue())
    return buf.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        self.server.log.append(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    rows = {"RoboticArm": EVAL_ROWS["RoboticArm"]}
    files = {
        "record/10902294/files/dev_fan.zip": zip_bytes(
            [f"fan/train/{FAN_TRAIN[0]}", f"fan/test/{FAN_TEST[0]}", f"fan/test/{FAN_TEST[1]}"]),
        "records/11259435/files/eval_data_RoboticArm_train_r2.zip": zip_bytes(
            [f"RoboticArm/train/{n}" for n in ARM_TRAIN] + ["__MACOSX/._junk"]),
        "records/11363076/files/eval_data_RoboticArm_test.zip": zip_bytes(
            [f"RoboticArm/test/{a}" for a, _ in rows["RoboticArm"]]),
        "nttcslab/dcase2023_task2_baseline_ae/main/datasets/eval_data_list_2024.csv": eval_list_bytes(rows),
    }
    files.update(fake_evaluator_files(monkeypatch, dcase2024.LAYOUT.evaluator, ["RoboticArm"], {
        "ground_truth_data/ground_truth_RoboticArm_section_00_test.csv":
            b"section_00_0000.wav,0\nsection_00_0001.wav,1\n",
        "ground_truth_domain/ground_truth_RoboticArm_section_00_test.csv":
            b"section_00_0000.wav,0\nsection_00_0001.wav,1\n"}))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.files, srv.log = files, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def run_download(server, tmp_path):
    download_bin.main(["--dataset", "dcase2024", "--download_dir", str(tmp_path / "dl"),
                       "--corpus_dir", str(tmp_path / "corpus"), "--machines", "fan,RoboticArm",
                       "--mirror", server.url, "--verbose", "0"])


def test_download_layout_then_prepare(server, tmp_path):
    run_download(server, tmp_path)
    corpus = tmp_path / "corpus"
    got = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file())
    assert got == sorted([f"dev_data/fan/train/{FAN_TRAIN[0]}", f"dev_data/fan/test/{FAN_TEST[0]}",
                          f"dev_data/fan/test/{FAN_TEST[1]}", "eval_data/RoboticArm/test/section_00_0000.wav",
                          "eval_data/RoboticArm/test/section_00_0001.wav", "eval_data_list_2024.csv",
                          "ground_truth/ground_truth_data/ground_truth_RoboticArm_section_00_test.csv",
                          "ground_truth/ground_truth_domain/ground_truth_RoboticArm_section_00_test.csv"]
                         + [f"eval_data/RoboticArm/train/{n}" for n in ARM_TRAIN])
    assert len(list((tmp_path / "dl").glob("*.done"))) == 6
    assert prepare_2024(corpus, tmp_path / "data") == {"train": 3, "dev_test": 2, "eval_test": 2}
    assert read_kv(tmp_path / "data/eval_test/utt2domain") == {
        "RoboticArm-section_00_source_normal_0035_weight15_BckgF": "source",
        "RoboticArm-section_00_target_anomaly_0059_weight25_BckgE": "target"}
    server.log.clear()
    run_download(server, tmp_path)
    assert server.log == []


def test_download_rejects_bad_archives(server, tmp_path):
    good = server.files["records/11363076/files/eval_data_RoboticArm_test.zip"]
    server.files["records/11363076/files/eval_data_RoboticArm_test.zip"] = good[:-30]  # truncated
    with pytest.raises(ValueError, match="eval_data_RoboticArm_test.zip: not a complete zip archive"):
        run_download(server, tmp_path)
    assert not (tmp_path / "dl/eval_data_RoboticArm_test.zip").exists()
    assert (tmp_path / "dl/dev_fan.zip.done").is_file()


def test_check_zip(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(zip_bytes(["fan/train/a.wav", "__MACOSX/fan/._a.wav"]))
    assert check_zip(path, "fan") == 1
    with pytest.raises(ValueError, match="expected the files of valve/ \\(e.g. fan/train/a.wav\\)"):
        check_zip(path, "valve")
    data = bytearray(path.read_bytes())
    data[data.index(b"RIFF") + 40] ^= 0xFF  # flip a sample byte: CRC32 no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="member fan/train/a.wav fails its CRC32 check"):
        check_zip(path, "fan")


def test_remote_files():
    remotes = {r.name: r for r in dcase2024.LAYOUT.remote_files()}
    assert len(remotes) == 7 + 2 * 9 + 1 + 2 * 9
    assert all(r.md5 is None for r in remotes.values() if r.unzip)
    truth = remotes["dcase2024_task2_evaluator_ground_truth_domain_ground_truth_ToyCircuit_section_00_test.csv"]
    assert truth.url == ("https://raw.githubusercontent.com/nttcslab/dcase2024_task2_evaluator/"
                         "b5d17f63769bf4372a5412a7ede1f814c9590047/ground_truth_domain/"
                         "ground_truth_ToyCircuit_section_00_test.csv")
    assert (truth.md5, truth.size, truth.unzip) == ("25dddb66afa21c4e9ebf82028d0fa987", 4400, False)
    assert truth.target == "ground_truth/ground_truth_domain/ground_truth_ToyCircuit_section_00_test.csv"
    assert remotes["dev_bearing.zip"].url == "https://zenodo.org/record/10902294/files/dev_bearing.zip"
    assert remotes["eval_data_3DPrinter_train_r2.zip"].url == (
        "https://zenodo.org/records/11259435/files/eval_data_3DPrinter_train_r2.zip")
    assert remotes["eval_data_AirCompressor_train.zip"].target == "eval_data"
    assert remotes["eval_data_ToothBrush_test.zip"].url == (
        "https://zenodo.org/records/11363076/files/eval_data_ToothBrush_test.zip")
    assert remotes["eval_data_list_2024.csv"].url == (
        "https://raw.githubusercontent.com/nttcslab/dcase2023_task2_baseline_ae/main/datasets/"
        "eval_data_list_2024.csv")
    assert [r.name for r in dcase2024.LAYOUT.remote_files(("valve",), mirror="http://m/")] == ["dev_valve.zip"]
    assert set(dcase2024.LAYOUT.validators()) == {n for n, r in remotes.items() if r.md5 is None}
