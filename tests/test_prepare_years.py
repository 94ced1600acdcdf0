"""DCASE 2021, 2022, 2023 and 2025 data preparation on fabricated official trees (each
year's names, folders and evaluation list), the supplemental option, and the archives
(Zenodo records, published MD5 sums or zip checks) fetched from a local HTTP server."""
import http.server
import re
import threading

import numpy as np
import pytest
import soundfile

from asd_lib.bin import download as download_bin
from asd_lib.bin import prepare_data as prepare_bin
from asd_lib.corpus import get_corpus
from asd_lib.corpus.dcase2021 import layout as dcase2021
from asd_lib.corpus.dcase2022 import layout as dcase2022
from asd_lib.corpus.dcase2023 import layout as dcase2023
from asd_lib.corpus.dcase2025 import layout as dcase2025
from asd_lib.corpus.download import ChecksumError
from asd_lib.data.datadir import validate_data_dir
from asd_lib.utils.fileio import read_kv
from test_prepare_data2024 import Handler, zip_bytes
from truth_helpers import fake_evaluator_files

prepare_2021 = get_corpus("dcase2021").prepare_data
prepare_2022 = get_corpus("dcase2022").prepare_data
prepare_2023 = get_corpus("dcase2023").prepare_data
prepare_2025 = get_corpus("dcase2025").prepare_data


def wav(path, samples=160):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.full(samples, 0.1), 16000, subtype="PCM_16")


def write_tree(root, files, eval_rows, list_name, line_end):
    for folder, names in files.items():
        for name in names:
            wav(root / folder / name)
    lines = []
    for machine, pairs in eval_rows.items():
        lines += [machine] + [f"{a},{b}" for a, b in pairs]
    (root / list_name).write_bytes((line_end.join(lines) + line_end).encode())
    return root


# --------------------------------------------------------------------------- 2021
FILES_2021 = {
    "dev_data/fan/train": ["section_00_source_train_normal_0000_strength_1_ambient.wav",
                           "section_01_target_train_normal_0002_strength_3.wav"],
    "dev_data/fan/source_test": ["section_00_source_test_normal_0000.wav",
                                 "section_00_source_test_anomaly_0000.wav"],
    "dev_data/fan/target_test": ["section_01_target_test_anomaly_0099.wav"],
    "dev_data/ToyCar/train": ["section_02_source_train_normal_0000_A1Spd28VMic1.wav"],
    "dev_data/ToyCar/source_test": ["section_02_source_test_normal_0000.wav"],
    "dev_data/ToyCar/target_test": ["section_02_target_test_normal_0000.wav"],
    "eval_data/fan/train": ["section_03_source_train_normal_0000_strength_1.wav"],
    "eval_data/fan/source_test": ["section_03_source_test_0000.wav", "section_03_source_test_0001.wav"],
    "eval_data/fan/target_test": ["section_05_target_test_0000.wav"],
}
ROWS_2021 = {"fan": [("section_03_source_test_0000.wav", "section_03_source_test_anomaly_0000.wav"),
                     ("section_03_source_test_0001.wav", "section_03_source_test_normal_0001.wav"),
                     ("section_05_target_test_0000.wav", "section_05_target_test_normal_0000.wav")]}


@pytest.fixture
def tree2021(tmp_path):
    return write_tree(tmp_path / "corpus", FILES_2021, ROWS_2021, "eval_data_list_2021.csv", "\r\n")


def test_prepare_2021(tree2021, tmp_path):
    data = tmp_path / "data"
    prepare_bin.main(["--dataset", "dcase2021", "--corpus_dir", str(tree2021), "--data_dir",
                      str(data), "--machines", "fan", "--verbose", "0"])
    counts = {p.name: len(read_kv(p / "wav.scp")) for p in data.iterdir()}
    assert counts == {"train": 3, "dev_test": 3, "eval_test": 3}
    assert read_kv(data / "train/utt2attr") == {
        "fan-section_00_source_train_normal_0000_strength_1_ambient": "strength_1_ambient",
        "fan-section_01_target_train_normal_0002_strength_3": "strength_3",
        "fan-section_03_source_train_normal_0000_strength_1": "strength_1"}
    assert set(read_kv(data / "train/utt2section").values()) == {"section_00", "section_01",
                                                                 "section_03"}
    # test names carry no attributes: the test sets have no utt2attr
    assert sorted(p.name for p in (data / "dev_test").iterdir()) == [
        "utt2domain", "utt2label", "utt2machine", "utt2section", "wav.scp"]
    assert read_kv(data / "dev_test/utt2domain")["fan-section_01_target_test_anomaly_0099"] == "target"
    scp = read_kv(data / "eval_test/wav.scp")
    assert scp["fan-section_03_source_test_anomaly_0000"].endswith(
        "eval_data/fan/source_test/section_03_source_test_0000.wav")
    assert read_kv(data / "eval_test/utt2label") == {
        "fan-section_03_source_test_anomaly_0000": "anomaly",
        "fan-section_03_source_test_normal_0001": "normal",
        "fan-section_05_target_test_normal_0000": "normal"}
    assert set(read_kv(data / "eval_test/utt2section").values()) == {"section_03", "section_05"}
    for name in ("train", "dev_test", "eval_test"):
        assert validate_data_dir(data / name, check_audio=True) > 0
    # without the list: only what the test file names tell
    (tree2021 / "eval_data_list_2021.csv").unlink()
    prepare_2021(tree2021, data, machines=("fan",))
    assert sorted(p.name for p in (data / "eval_test").iterdir()) == [
        "utt2machine", "utt2section", "wav.scp"]


@pytest.mark.parametrize("case, message", [
    ("dev_data/fan/source_test/section_00_target_test_normal_0001.wav",
     "a target-domain clip in source_test/; move it to target_test/"),
    ("dev_data/fan/source_test/section_00_source_test_normal_0001_strength_1.wav",
     "name does not follow the official DCASE 2021 layout (expected "
     "section_00_source_test_normal_0000.wav"),
    ("dev_data/fan/train/section_03_source_train_normal_0001_strength_1.wav",
     "section 03 is not a DCASE 2021 development section (expected 00, 01, 02)"),
    ("eval_data/fan/source_test/section_03_0002.wav",
     "(expected section_03_source_test_0000.wav"),
    ("eval_data/fan/target_test/section_04_source_test_0000.wav",
     "a source-domain clip in target_test/"),
])
def test_prepare_2021_rejects(tree2021, tmp_path, case, message):
    wav(tree2021 / case)
    with pytest.raises(ValueError, match=re.escape(message)):
        prepare_2021(tree2021, tmp_path / "data", machines=("fan",))
    assert not (tmp_path / "data").exists()


def test_2021_needs_both_domain_folders(tree2021, tmp_path):
    for path in (tree2021 / "dev_data/ToyCar/target_test").iterdir():
        path.unlink()
    (tree2021 / "dev_data/ToyCar/target_test").rmdir()
    with pytest.raises(ValueError, match=r"ToyCar/target_test: folder missing; set DCASE2021 in db.sh"):
        prepare_2021(tree2021, tmp_path / "data", machines=("ToyCar",),
                               use_additional=False)


def test_read_eval_list_2021(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"fan\r\nsection_03_source_test_0000.wav,section_03_source_test_anomaly_0000.wav\r\n")
    (row,) = dcase2021.LAYOUT.read_eval_list(path)
    assert (row.clip.domain, row.clip.label, row.clip.index, row.clip.attr) == (
        "source", "anomaly", 0, None)
    out = tmp_path / "out.csv"
    dcase2021.LAYOUT.write_eval_list(out, [(row.machine, row.eval_name, row.full_name)])
    assert out.read_bytes() == path.read_bytes()
    path.write_text("fan\nsection_03_source_test_0000.wav,section_03_target_test_normal_0000.wav\n")
    with pytest.raises(ValueError, match="inconsistent"):
        dcase2021.LAYOUT.read_eval_list(path)
    path.write_text("fan\nsection_03_0000.wav,section_03_source_test_normal_0000.wav\n")
    with pytest.raises(ValueError, match="malformed row"):
        dcase2021.LAYOUT.read_eval_list(path)


# --------------------------------------------------------------------------- 2022
FILES_2022 = {
    "dev_data/gearbox/train": ["section_00_source_train_normal_0000_volt_1.0.wav",
                               "section_02_target_train_normal_0009_wt_250.wav"],
    "dev_data/gearbox/test": ["section_00_source_test_anomaly_0007_volt_2.5.wav",
                              "section_02_target_test_normal_0000_wt_250.wav"],
    "eval_data/gearbox/train": ["section_04_source_train_normal_0000_wt_100.wav"],
    "eval_data/gearbox/test": ["section_04_0000.wav", "section_05_0199.wav"],
}
ROWS_2022 = {"gearbox": [("section_04_0000.wav", "section_04_target_test_anomaly_0011_wt_250.wav"),
                         ("section_05_0199.wav", "section_05_source_test_normal_0199_id_07.wav")]}


def test_prepare_2022(tmp_path):
    tree = write_tree(tmp_path / "corpus", FILES_2022, ROWS_2022, "eval_data_list_2022.csv", "\n")
    data = tmp_path / "data"
    assert prepare_2022(tree, data) == {"train": 3, "dev_test": 2, "eval_test": 2}
    assert read_kv(data / "dev_test/utt2attr") == {
        "gearbox-section_00_source_test_anomaly_0007_volt_2.5": "volt_2.5",
        "gearbox-section_02_target_test_normal_0000_wt_250": "wt_250"}
    assert read_kv(data / "eval_test/utt2domain") == {
        "gearbox-section_04_target_test_anomaly_0011_wt_250": "target",
        "gearbox-section_05_source_test_normal_0199_id_07": "source"}
    assert (tree / "eval_data_list_2022.csv").read_bytes().count(b"\r") == 0
    wav(tree / "dev_data/gearbox/test/section_01_source_test_normal_0001.wav")
    with pytest.raises(ValueError, match="section_01_source_test_normal_0001.wav: name does not "
                                         "follow the official DCASE 2022 layout"):
        prepare_2022(tree, data)


def test_2022_eval_list_checks_its_sections(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("valve\nsection_03_0000.wav,section_03_source_test_normal_0000_pat_06.wav\n")
    assert dcase2022.LAYOUT.read_eval_list(path)[0].clip.attr == "pat_06"
    path.write_text("valve\nsection_04_0000.wav,section_03_source_test_normal_0000_pat_06.wav\n")
    with pytest.raises(ValueError, match="inconsistent"):
        dcase2022.LAYOUT.read_eval_list(path)


# --------------------------------------------------------------------------- 2023, 2025
def test_prepare_2023_separate_eval_train(tmp_path):
    files = {"dev_data/fan/train": ["section_00_source_train_normal_0705_m-n_X.wav"],
             "dev_data/fan/test": ["section_00_target_test_anomaly_0003_m-n_Z.wav"],
             "eval_data/ToyDrone/train": ["section_00_source_train_normal_0001_car_A1_spd_1_mic_2.wav"],
             "eval_data/ToyDrone/test": ["section_00_0000.wav"]}
    rows = {"ToyDrone": [("section_00_0000.wav",
                          "section_00_target_test_anomaly_0012_car_C1_spd_1_mic_2.wav")]}
    tree = write_tree(tmp_path / "corpus", files, rows, "eval_data_list_2023.csv", "\r\n")
    counts = prepare_2023(tree, tmp_path / "data", separate_eval_train=True)
    assert counts == {"train": 1, "dev_test": 1, "eval_train": 1, "eval_test": 1}
    wav(tree / "dev_data/ToyDrone/train/section_00_source_train_normal_0002_car_A1_spd_1_mic_2.wav")
    with pytest.raises(ValueError, match=r"ToyDrone belong\(s\) in eval_data/"):
        prepare_2023(tree, tmp_path / "data")


FILES_2025 = {
    "dev_data/bearing/train": ["section_00_source_train_normal_0000_noAttribute.wav"],
    "dev_data/bearing/test": ["section_00_source_test_anomaly_0021_noAttribute.wav"],
    "dev_data/bearing/supplemental": ["section_00_machine_source_0000_noAttribute.wav"],
    "eval_data/CoffeeGrinder/train": [
        "section_00_source_train_normal_0000_mic_imp34dt05_mic_pos_A_grind_100_bkg_A.wav"],
    "eval_data/CoffeeGrinder/test": ["section_00_0000.wav"],
    "eval_data/CoffeeGrinder/supplemental": ["section_00_noise_0001_.wav", "anything.wav"],
}
ROWS_2025 = {"CoffeeGrinder": [("section_00_0000.wav", "section_00_source_test_normal_1317_"
                                "mic_imp23absu_mic_pos_B_grind_300_bkg_Z.wav")]}


def test_prepare_2025_with_and_without_supplemental(tmp_path):
    tree = write_tree(tmp_path / "corpus", FILES_2025, ROWS_2025, "eval_data_list_2025.csv", "\r\n")
    data = tmp_path / "data"
    assert prepare_2025(tree, data) == {"train": 2, "dev_test": 1, "eval_test": 1}
    assert read_kv(data / "train/utt2attr")["CoffeeGrinder-section_00_source_train_normal_0000_"
                                            "mic_imp34dt05_mic_pos_A_grind_100_bkg_A"] == (
        "mic_imp34dt05_mic_pos_A_grind_100_bkg_A")
    assert read_kv(data / "eval_test/utt2attr") == {
        "CoffeeGrinder-section_00_source_test_normal_1317_mic_imp23absu_mic_pos_B_grind_300_bkg_Z":
            "mic_imp23absu_mic_pos_B_grind_300_bkg_Z"}
    prepare_bin.main(["--dataset", "dcase2025", "--corpus_dir", str(tree), "--data_dir", str(data),
                      "--supplemental", "true", "--verbose", "0"])
    # any name: the grammar is not verified; a domain token is read where every name has one
    assert read_kv(data / "supplemental/wav.scp").keys() == {
        "bearing-section_00_machine_source_0000_noAttribute", "CoffeeGrinder-anything",
        "CoffeeGrinder-section_00_noise_0001_"}
    assert set(read_kv(data / "supplemental/utt2section").values()) == {"section_00"}
    assert not (data / "supplemental/utt2domain").exists()
    prepare_2025(tree, data)
    assert not (data / "supplemental").exists()  # not made by this run: removed
    with pytest.raises(ValueError, match="--supplemental does not apply to dcase2023"):
        prepare_bin.main(["--dataset", "dcase2023", "--corpus_dir", str(tree), "--data_dir",
                          str(data), "--supplemental", "true"])


def test_2025_supplemental_recordings_as_extra_training_clips(tmp_path):
    tree = write_tree(tmp_path / "corpus", FILES_2025, ROWS_2025, "eval_data_list_2025.csv", "\r\n")
    data = tmp_path / "data"
    counts = prepare_2025(tree, data, supplemental_in_train=True)
    assert counts == {"train": 2 + 3, "dev_test": 1, "eval_test": 1}  # no data/supplemental
    train = {name: read_kv(data / "train" / name)
             for name in ("utt2domain", "utt2attr", "utt2label", "utt2section")}
    extra = ("bearing-section_00_machine_source_0000_noAttribute", "CoffeeGrinder-anything",
             "CoffeeGrinder-section_00_noise_0001_")
    assert [train["utt2domain"][u] for u in extra] == ["source"] * 3
    assert {train["utt2attr"][u] for u in extra} == {"noAttribute"}
    assert {train["utt2label"][u] for u in extra} == {"normal"}
    assert {train["utt2section"][u] for u in extra} == {"section_00"}
    split = prepare_2025(tree, data, separate_eval_train=True, supplemental=True,
                                   supplemental_in_train=True)
    assert split == {"train": 2, "eval_train": 3, "dev_test": 1, "eval_test": 1,
                     "supplemental": 3}


def test_2025_supplemental_needs_the_folders(tmp_path):
    files = {k: v for k, v in FILES_2025.items() if not k.endswith("supplemental")}
    tree = write_tree(tmp_path / "corpus", files, ROWS_2025, "eval_data_list_2025.csv", "\r\n")
    with pytest.raises(ValueError, match="no supplemental/ folder for bearing, CoffeeGrinder"):
        prepare_2025(tree, tmp_path / "data", supplemental=True)


# --------------------------------------------------------------------------- archives
@pytest.mark.parametrize("layout, count, truth, dev_url, eval_url, with_md5", [
    (dcase2021.LAYOUT, 7 * 3, 7 * 3 * 2, "https://zenodo.org/record/4562016/files/dev_data_fan.zip",
     "https://zenodo.org/record/4884786/files/eval_data_fan_test.zip", False),
    (dcase2022.LAYOUT, 7 * 3, 7 * 3 * 2, "https://zenodo.org/record/6355122/files/dev_fan.zip",
     "https://zenodo.org/record/6462969/files/eval_data_fan_train.zip", False),
    (dcase2023.LAYOUT, 7 + 7 * 2, 7 * 2, "https://zenodo.org/record/7882613/files/dev_fan.zip",
     "https://zenodo.org/record/7860847/files/eval_data_ToyTank_test.zip", True),
    (dcase2025.LAYOUT, 7 + 8 * 2, 0, "https://zenodo.org/records/15097779/files/dev_fan.zip",
     "https://zenodo.org/records/15392814/files/eval_data_ScrewFeeder_train.zip", False),
])
def test_remote_files(layout, count, truth, dev_url, eval_url, with_md5):
    remotes = layout.remote_files()
    urls = {r.url for r in remotes}
    name = layout.eval_list_name
    assert len(remotes) == count + 1 + truth and dev_url in urls and eval_url in urls
    ground_truth = [r for r in remotes if r.target.startswith("ground_truth/")]
    assert len(ground_truth) == truth and all(r.md5 and r.size for r in ground_truth)
    assert (f"https://raw.githubusercontent.com/nttcslab/dcase2023_task2_baseline_ae/main/"
            f"datasets/{name}") in urls
    archives = [r for r in remotes if r.unzip]
    assert all((r.md5 is not None) == with_md5 for r in archives)
    assert {r.target for r in archives} == {"dev_data", "eval_data"}
    checks = layout.validators()
    assert name in checks and all((r.name in checks) != with_md5 for r in archives)


def test_published_md5_of_2023():
    md5 = {r.name: r.md5 for r in dcase2023.LAYOUT.remote_files() if r.unzip}
    assert md5["dev_bearing.zip"] == "8a813bc8d8f156b5395bfccdfac7673c"
    assert md5["eval_data_Vacuum_test.zip"] == "a32524fd8c45b574a560685b38acc4e1"
    assert len([v for v in md5.values() if v]) == 21


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.files, srv.log = {}, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def _download(server, tmp_path, dataset, machines):
    download_bin.main(["--dataset", dataset, "--download_dir", str(tmp_path / "dl"),
                       "--corpus_dir", str(tmp_path / "corpus"), "--machines", machines,
                       "--mirror", server.url, "--verbose", "0"])


def test_download_2021_then_prepare(server, tmp_path, monkeypatch, capfd):
    train = "section_03_source_train_normal_0000_strength_1.wav"
    server.files.update(fake_evaluator_files(monkeypatch, dcase2021.LAYOUT.evaluator, ["valve"], {
        "ground_truth_data/ground_truth_valve_section_03_source_test.csv":
            b"section_03_source_test_0000.wav,1\n",
        "ground_truth_data/ground_truth_valve_section_03_target_test.csv":
            b"section_03_target_test_0000.wav,1\n"}))
    server.files.update({
        "record/4562016/files/dev_data_valve.zip": zip_bytes(
            ["valve/train/section_00_source_train_normal_0000_pattern_00.wav",
             "valve/source_test/section_00_source_test_normal_0000.wav",
             "valve/target_test/section_00_target_test_anomaly_0000.wav"]),
        "record/4660992/files/eval_data_valve_train.zip": zip_bytes([f"valve/train/{train}"]),
        "record/4884786/files/eval_data_valve_test.zip": zip_bytes(
            ["valve/source_test/section_03_source_test_0000.wav",
             "valve/target_test/section_03_target_test_0000.wav"]),
        "nttcslab/dcase2023_task2_baseline_ae/main/datasets/eval_data_list_2021.csv":
            b"valve\r\nsection_03_source_test_0000.wav,section_03_source_test_normal_0000.wav\r\n"
            b"section_03_target_test_0000.wav,section_03_target_test_anomaly_0000.wav\r\n",
    })
    _download(server, tmp_path, "dcase2021", "valve")
    assert (tmp_path / "corpus/ground_truth/ground_truth_data/"
            "ground_truth_valve_section_03_target_test.csv").read_bytes() == b"section_03_target_test_0000.wav,1\n"
    counts = prepare_2021(tmp_path / "corpus", tmp_path / "data")
    assert counts == {"train": 2, "dev_test": 2, "eval_test": 2}
    # the list calls the source clip normal, the evaluator anomalous: the evaluator wins
    assert read_kv(tmp_path / "data/eval_test/utt2label") == {
        "valve-section_03_source_test_0000": "anomaly",
        "valve-section_03_target_test_anomaly_0000": "anomaly"}
    assert "1 of 2 evaluation test clips (valve 1) have another label or domain in " \
           "eval_data_list_2021.csv than in the official evaluator's ground truth" in capfd.readouterr().err
    server.files["record/4884786/files/eval_data_valve_test.zip"] = zip_bytes(
        ["fan/source_test/section_03_source_test_0000.wav"])
    for done in ("eval_data_valve_test.zip.done", "eval_data_valve_test.zip"):
        (tmp_path / "dl" / done).unlink()
    with pytest.raises(ValueError, match="expected the files of valve/"):
        _download(server, tmp_path, "dcase2021", "valve")


def test_download_2023_checks_the_published_md5(server, tmp_path):
    server.files["record/7882613/files/dev_fan.zip"] = zip_bytes(
        ["fan/train/section_00_source_train_normal_0000_m-n_W.wav"])
    with pytest.raises(ChecksumError, match="dev_fan.zip: MD5 .* does not match the published "
                                            "9348591e96fb0ad499a1e33b082562fc"):
        _download(server, tmp_path, "dcase2023", "fan")
    assert server.log.count("/record/7882613/files/dev_fan.zip") == 2  # one retry
