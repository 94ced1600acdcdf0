"""Bad ``wav.scp`` files: each is caught by stage 1 (``validate_data_dir``) and again by
stage 2 (``dump``, which checks its wav.scp first), with the line, the file and the fix,
before anything is written; a path with spaces works end to end.

Windows line endings are an error (``run dos2unix``), not silently accepted: a CR would
otherwise end up inside paths and values.
"""
import subprocess
import sys

import numpy as np
import pytest
from faultkit import REPO, entry_env, fault, run_entry, snapshot, write_scp, write_wav

from asd_lib.bin import dump as dump_bin
from asd_lib.data.datadir import DataDirError, validate_data_dir
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.utils.fileio import read_kv


@pytest.fixture
def data_dir(tmp_path):
    """A data dir of three clips (keys a, b, c) whose wavs exist."""
    data = tmp_path / "data" / "train"
    wavs = [write_wav(tmp_path / "corpus" / f"{k}.wav", np.full(8, i, np.int16))
            for i, k in enumerate("abc")]
    write_scp(data / "wav.scp", zip("abc", wavs))
    write_scp(data / "utt2machine", [(k, "fan") for k in "abc"])
    write_scp(data / "utt2section", [(k, "id_00") for k in "abc"])
    return data


def both_stages_fail(tmp_path, data, message):
    """Stage 1 and stage 2 both raise exactly ``message``; stage 2 writes nothing."""
    with pytest.raises(DataDirError) as err:
        validate_data_dir(data, check_audio=True)
    assert str(err.value) == message
    out = tmp_path / "dump"
    with pytest.raises(DataDirError) as err:
        dump_bin.main(["--wav_scp", str(data / "wav.scp"), "--out_prefix", str(out / "feats.1"),
                       "--segment_sec", "0.0005", "--verbose", "0"])
    assert str(err.value) == message
    assert not out.exists()


@fault('a wav.scp line naming a missing file', 'clear error',
       'names the line and the file')
def test_missing_audio_file_names_the_line_and_the_file(tmp_path, data_dir):
    missing = tmp_path / "corpus" / "b.wav"
    missing.unlink()
    scp = data_dir / "wav.scp"
    both_stages_fail(tmp_path, data_dir,
                     f"{scp}:2: audio file {missing} of 'b' does not exist; fix this line "
                     "(or the corpus path in db.sh and re-run data preparation)")


@fault('duplicate utterance ID in a data dir', 'clear error',
       'names both lines')
def test_duplicate_key_names_both_lines(tmp_path, data_dir):
    scp = data_dir / "wav.scp"
    lines = scp.read_text().splitlines(keepends=True)
    scp.write_text("".join(lines + [lines[0]]))
    message = (f"{scp}:4: duplicate key 'a' (also on line 1); keys must be unique "
               "(remove one of the two lines or re-run data preparation)")
    both_stages_fail(tmp_path, data_dir, message)
    with pytest.raises(ValueError) as err:
        read_kv(scp)
    assert str(err.value) == message


@fault('Windows line endings in a data dir', 'clear error',
       'asks for dos2unix')
def test_windows_line_endings_ask_for_dos2unix(tmp_path, data_dir):
    scp = data_dir / "wav.scp"
    scp.write_bytes(scp.read_bytes().replace(b"\n", b"\r\n"))
    both_stages_fail(tmp_path, data_dir,
                     f"{scp}: Windows line endings (CR characters, the first on line 1): "
                     f"run dos2unix {scp}")
    with pytest.raises(ValueError) as err:
        read_kv(scp)
    assert str(err.value) == f"{scp}:1: Windows line ending (CR character); run dos2unix {scp}"


@fault('spaces in corpus paths', 'handled and logged',
       'validation, split and dump read them')
def test_spaces_in_paths_work_through_validation_split_and_dump(tmp_path, monkeypatch):
    """Kaldi's wav.scp value is the rest of the line: spaces in directories and names."""
    clips = {f"fan-normal_id_00_{i:08d}": (np.arange(16) * (i + 1)).astype(np.int16)
             for i in range(4)}
    data = tmp_path / "data" / "train"
    rows = [(utt, write_wav(tmp_path / "my corpus" / "fan id 00" / f"normal  {utt} .wav", x))
            for utt, x in clips.items()]
    write_scp(data / "wav.scp", rows)
    write_scp(data / "utt2machine", [(utt, "fan") for utt in clips])
    write_scp(data / "utt2section", [(utt, "id_00") for utt in clips])
    shell_env = {**entry_env(), "PYTHON": sys.executable}
    res = subprocess.run([REPO / "utils/validate_data_dir.sh", "--check-audio", "data/train"],
                         cwd=tmp_path, env=shell_env, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout == "validated data/train: 4 utterances\n", res.stderr
    parts = ["dump/split/wav.1.scp", "dump/split/wav.2.scp"]
    res = subprocess.run([REPO / "utils/split_scp.sh", "data/train/wav.scp", *parts],
                         cwd=tmp_path, env=shell_env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for n, part in enumerate(parts, 1):
        res = run_entry("asd_lib.bin.dump", ["--wav_scp", part, "--out_prefix",
                                             f"dump/split/feats.{n}", "--segment_sec", 16 / 16000],
                        cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    monkeypatch.chdir(tmp_path)  # the scp names its archive as given: dump/split/...
    dumped = {}
    for n in (1, 2):
        dumped.update(load_scp_arrays(f"dump/split/feats.{n}.scp"))
    assert sorted(dumped) == sorted(clips)
    for utt, x in clips.items():
        np.testing.assert_array_equal(dumped[utt], x)
    assert sorted(snapshot(tmp_path / "dump")) == [  # complete outputs, no leftovers
        "split/feats.1.scp", "split/feats.2.scp", "split/wav.1.scp", "split/wav.2.scp"]
    assert all(" corpus/fan id 00/normal  " in line  # referenced in place, spaces kept
               for n in (1, 2) for line in open(f"dump/split/feats.{n}.scp"))


@fault('an unsorted `data/<set>/wav.scp` reaching stage 2', 'clear error',
       'names the `data/` file to sort, not its `dump/` copy')
def test_unsorted_wav_scp_found_in_the_dump_names_the_data_file(tmp_path):
    """Stage 2 as asd.sh runs it on a data dir whose wav.scp was edited after stage 1."""
    wavs = [write_wav(tmp_path / "corpus" / f"{k}.wav", np.full(8, i, np.int16))
            for i, k in enumerate("ba")]
    write_scp(tmp_path / "data/train/wav.scp", zip("ba", wavs))
    write_scp(tmp_path / "data/train/utt2machine", [(k, "fan") for k in "ba"])
    write_scp(tmp_path / "data/train/utt2section", [(k, "id_00") for k in "ba"])
    shell_env = {**entry_env(), "PYTHON": sys.executable}

    def run(*command):
        return subprocess.run([str(c) for c in command], cwd=tmp_path, env=shell_env,
                              capture_output=True, text=True)

    assert run(REPO / "utils/split_scp.sh", "data/train/wav.scp",
               "dump/train/split/wav.1.scp").returncode == 0
    res = run_entry("asd_lib.bin.dump", ["--wav_scp", "dump/train/split/wav.1.scp",
                                         "--out_prefix", "dump/train/split/feats.1",
                                         "--segment_sec", 8 / 16000], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (tmp_path / "dump/train/feats.scp").write_text(
        "".join(sorted((tmp_path / "dump/train/split/feats.1.scp").read_text().splitlines(True))))
    for name in ("wav.scp", "utt2machine", "utt2section"):
        (tmp_path / "dump/train" / name).write_bytes((tmp_path / "data/train" / name).read_bytes())
    res = run(REPO / "utils/validate_data_dir.sh", "dump/train")
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1].split(" ERROR: ", 1)[1] == (
        "data/train/wav.scp:2: not sorted ('a' after 'b'): run `LC_ALL=C sort -k1,1 -o "
        "data/train/wav.scp data/train/wav.scp`; then re-run stage 2, which copies it to "
        "dump/train/wav.scp")
