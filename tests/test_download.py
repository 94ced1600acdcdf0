"""Resumable, MD5-verified download of the DCASE 2020 archives from a local HTTP server."""
import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asd_lib.bin import download as download_bin
from asd_lib.corpus.common import RemoteFile
from asd_lib.corpus.dcase2020 import layout as dcase2020
from asd_lib.corpus.download import ChecksumError, download_corpus, extract

MACHINES = ("ToyCar", "fan")


def tiny_wav() -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, np.full(64, 0.1), 16000, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def make_zip(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in members:
            z.writestr(name, tiny_wav())
    return buf.getvalue()


def fabricate(root: Path):
    """The Zenodo paths of the official files, with tiny stand-in content."""
    files = {}
    rows = []
    for m in MACHINES:
        dev, extra = dcase2020.DEV_IDS[m][0], dcase2020.EVAL_IDS[m][0]
        files[f"record/3678171/files/dev_data_{m}.zip"] = make_zip(
            [f"{m}/train/normal_id_{dev}_00000000.wav", f"{m}/test/normal_id_{dev}_00000000.wav",
             f"{m}/test/anomaly_id_{dev}_00000000.wav"])
        files[f"record/3727685/files/eval_data_train_{m}.zip"] = make_zip(
            [f"{m}/train/normal_id_{extra}_00000000.wav", "__MACOSX/junk"])
        files[f"record/3841772/files/eval_data_test_{m}.zip"] = make_zip(
            [f"{m}/test/id_{extra}_00000000.wav"])
        rows.append((m, f"id_{extra}_00000000.wav", f"anomaly_id_{extra}_00000003.wav", 1))
    dcase2020.write_eval_list(root / "list.csv", rows)
    files["record/3951620/files/eval_data_list.csv"] = (root / "list.csv").read_bytes()
    return files


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        body = srv.files.get(self.path.lstrip("/"))
        srv.log.append((self.path.rsplit("/", 1)[-1], self.headers.get("Range")))
        if body is None:
            self.send_error(404)
            return
        rng = self.headers.get("Range")
        if rng and srv.support_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    files = fabricate(tmp_path)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.files, srv.log, srv.support_range = files, [], True
    for path, body in files.items():
        if path.endswith(".zip"):
            monkeypatch.setitem(dcase2020.ARCHIVE_MD5, path.rsplit("/", 1)[-1], hashlib.md5(body).hexdigest())
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def run(server, tmp_path, machines="ToyCar,fan"):
    download_bin.main(["--dataset", "dcase2020", "--download_dir", str(tmp_path / "dl"),
                       "--corpus_dir", str(tmp_path / "corpus"), "--machines", machines,
                       "--mirror", server.url])


def test_full_download_layout_and_rerun(server, tmp_path):
    run(server, tmp_path)
    corpus = tmp_path / "corpus"
    got = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file())
    assert got == [
        "dev_data/ToyCar/test/anomaly_id_01_00000000.wav",
        "dev_data/ToyCar/test/normal_id_01_00000000.wav",
        "dev_data/ToyCar/train/normal_id_01_00000000.wav",
        "dev_data/fan/test/anomaly_id_00_00000000.wav",
        "dev_data/fan/test/normal_id_00_00000000.wav",
        "dev_data/fan/train/normal_id_00_00000000.wav",
        "eval_data/ToyCar/test/id_05_00000000.wav",
        "eval_data/ToyCar/train/normal_id_05_00000000.wav",
        "eval_data/fan/test/id_01_00000000.wav",
        "eval_data/fan/train/normal_id_01_00000000.wav",
        "eval_data_list.csv",
    ]
    assert (corpus / "eval_data_list.csv").read_bytes() == server.files["record/3951620/files/eval_data_list.csv"]
    assert len(list((tmp_path / "dl").glob("*.done"))) == 7
    assert not list((tmp_path / "dl").glob("*.part")) and not list(corpus.glob(".*"))
    assert len(server.log) == 7 and all(r is None for _, r in server.log)
    # the downloaded tree is a valid corpus for data preparation
    counts = dcase2020.prepare_data(corpus, tmp_path / "data")
    assert counts == {"train": 4, "dev_test": 4, "eval_test": 2}

    server.log.clear()
    before = {p: p.stat().st_mtime_ns for p in corpus.rglob("*")}
    run(server, tmp_path)
    assert server.log == []
    assert {p: p.stat().st_mtime_ns for p in corpus.rglob("*")} == before


@pytest.mark.parametrize("support_range", [True, False])
def test_resume_partial_file(server, tmp_path, support_range):
    server.support_range = support_range
    body = server.files["record/3678171/files/dev_data_fan.zip"]
    dl = tmp_path / "dl"
    dl.mkdir()
    # a server that ignores Range must get a clean restart, so poison the prefix then
    prefix = body[:100] if support_range else b"x" * 100
    (dl / "dev_data_fan.zip.part").write_bytes(prefix)
    run(server, tmp_path, machines="fan")
    assert (dl / "dev_data_fan.zip").read_bytes() == body
    assert ("dev_data_fan.zip", "bytes=100-") in server.log
    assert [name for name, _ in server.log].count("dev_data_fan.zip") == 1
    assert (tmp_path / "corpus/dev_data/fan/train/normal_id_00_00000000.wav").is_file()


def test_complete_part_file_answered_416(server, tmp_path):
    body = server.files["record/3678171/files/dev_data_fan.zip"]
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl/dev_data_fan.zip.part").write_bytes(body)
    run(server, tmp_path, machines="fan")
    assert (tmp_path / "dl/dev_data_fan.zip.done").is_file()


def test_checksum_mismatch(server, tmp_path, monkeypatch):
    monkeypatch.setitem(dcase2020.ARCHIVE_MD5, "eval_data_train_fan.zip", "0" * 32)
    with pytest.raises(ChecksumError, match="eval_data_train_fan.zip: MD5 .* does not match the published 0{32}"):
        run(server, tmp_path, machines="fan")
    assert [name for name, _ in server.log].count("eval_data_train_fan.zip") == 2  # retried once
    dl = tmp_path / "dl"
    assert not (dl / "eval_data_train_fan.zip").exists() and not (dl / "eval_data_train_fan.zip.done").exists()
    assert (dl / "dev_data_fan.zip.done").is_file()  # finished archives stay done


def test_bad_eval_list_and_missing_file(server, tmp_path):
    server.files["record/3951620/files/eval_data_list.csv"] = b"fan\nnot,a,row\n"
    with pytest.raises(ValueError, match="malformed row"):
        run(server, tmp_path, machines="fan")
    assert not (tmp_path / "dl/eval_data_list.csv").exists()
    del server.files["record/3678171/files/dev_data_fan.zip"]
    for name in ("dev_data_fan.zip.done", "dev_data_fan.zip"):
        (tmp_path / "dl" / name).unlink()
    with pytest.raises(RuntimeError, match="HTTP 404"):
        run(server, tmp_path, machines="fan")


def test_remote_files_and_unsafe_zip(tmp_path):
    remotes = dcase2020.remote_files()
    assert len(remotes) == 19 and sum(r.md5 is not None for r in remotes) == 18
    by_name = {r.name: r for r in remotes}
    assert by_name["dev_data_fan.zip"].url == "https://zenodo.org/record/3678171/files/dev_data_fan.zip"
    assert by_name["dev_data_fan.zip"].md5 == "649bdfc06263ae7a838963f43b6641e6"
    assert by_name["eval_data_test_ToyCar.zip"].md5 == "bea2bdd612f616be8f2b8eb087b32c7c"
    assert by_name["eval_data_train_valve.zip"].target == "eval_data"
    assert by_name["eval_data_list.csv"].url == "https://zenodo.org/record/3951620/files/eval_data_list.csv"
    assert dcase2020.remote_files(("pump",), mirror="http://m/")[0].url == "http://m/record/3678171/files/dev_data_pump.zip"

    evil = tmp_path / "evil.zip"
    evil.write_bytes(make_zip(["../outside.wav"]))
    with pytest.raises(ValueError, match="unsafe member path"):
        extract(evil, tmp_path / "corpus")
    assert not (tmp_path / "outside.wav").exists()


def test_unpublished_checksum_warns(server, tmp_path, caplog):
    remote = [r for r in dcase2020.remote_files(("fan",), mirror=server.url) if not r.unzip]
    download_corpus(remote, tmp_path / "dl", tmp_path / "corpus")
    assert "eval_data_list.csv: no published MD5 sum" in caplog.text
    assert (tmp_path / "corpus/eval_data_list.csv").is_file()


def test_size_and_md5_of_a_plain_file(server, tmp_path):
    body = b"section_03_0000.wav,1\n"
    server.files["gt/a.csv"] = body
    remote = RemoteFile("a.csv", f"{server.url}/gt/a.csv", hashlib.md5(body).hexdigest(),
                        "ground_truth/a.csv", False, len(body) + 1)
    with pytest.raises(ChecksumError, match=r"a.csv: 22 bytes, not the expected 23 \(twice; "):
        download_corpus([remote], tmp_path / "dl", tmp_path / "corpus")
    assert [name for name, _ in server.log].count("a.csv") == 2
    download_corpus([remote._replace(size=len(body))], tmp_path / "dl", tmp_path / "corpus")
    assert (tmp_path / "corpus/ground_truth/a.csv").read_bytes() == body
