"""File names that look like shell commands, and Kaldi ``cmd |`` entries of a wav.scp.

A wav file given to ``detect`` by path is read as a path, whatever its name: a file named
``x; touch pwned; true |`` is scored like any wav and nothing runs. A ``cmd |`` entry is
run (in a shell, as Kaldi runs it) only from a wav.scp and only with ``--allow_pipes
true``; without it stage 2, ``detect --scp`` and the cluster labeller stop with one error
naming the file, the line and the option, before anything is run or written.
"""
import shutil

import numpy as np
import pytest
from faultkit import fault, snapshot, write_scp, write_wav

from asd_lib.bin import detect, dump, make_labels
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.utils.cli import run_main
from asd_lib.utils.fileio import read_kv
from report_fixtures import INFERENCE_TAG, TAG, tiny_experiment

HOSTILE = "x; touch pwned; true |"


def refusal(scp, lineno: int, key: str) -> str:
    return (f"{scp}:{lineno}: the entry of {key!r} ends in '|', a command to run; commands in "
            "a wav.scp run only with --allow_pipes true: write the audio file's path "
            f"instead, or pass --allow_pipes true if you trust every command in {scp.name}")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """The current directory is ``tmp_path``, where ``touch pwned`` would land."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@fault('a wav named like a shell command, given to `detect`', 'handled and logged',
       'read as a path and scored; nothing runs')
def test_detect_reads_a_hostile_file_name_as_a_path(tmp_path_factory, in_tmp, capsys):
    recipe = tiny_experiment(tmp_path_factory)
    data = recipe / "dump/dev_test"
    utt, wav = next((u, w) for u, w in read_kv(data / "wav.scp").items()
                    if read_kv(data / "utt2section")[u] == "id_00")
    hostile = in_tmp / HOSTILE
    shutil.copy(wav, hostile)
    capsys.readouterr()
    detect.main(["--inference_dir", str(recipe / "exp" / TAG / INFERENCE_TAG), "--machine",
                 "fan", "--section", "id_00", "--verbose", "0", HOSTILE])
    key, score, _ = capsys.readouterr().out.rsplit(" ", 2)
    assert key == HOSTILE
    expected = read_kv(recipe / "exp" / TAG / INFERENCE_TAG / "dev_test" / "utt2score")[utt]
    assert float(score) == pytest.approx(float(expected), rel=1e-5)
    assert not (in_tmp / "pwned").exists()


@fault('a Kaldi command entry (ending in a pipe) in a wav.scp (stage 2)', 'refused with the fix',
       'names the file, the line and --allow_pipes; nothing runs or is written')
def test_dump_refuses_a_command_entry_without_allow_pipes(in_tmp, capsys):
    good = write_wav(in_tmp / "good.wav", np.arange(-80, 80, dtype=np.int16))
    scp = write_scp(in_tmp / "wav.scp", [("a", good), ("b", HOSTILE)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: dump.main(["--wav_scp", str(scp), "--out_prefix", "out/feats.1",
                                    "--segment_sec", "0.01", "--verbose", "0"]))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.split(" ERROR: ", 1)[1] == refusal(scp, 2, "b") + "\n"
    assert not (in_tmp / "pwned").exists() and not (in_tmp / "out").exists()


@fault('a Kaldi command entry in a wav.scp with `--allow_pipes true`', 'handled and logged',
       'the command runs and its wav is dumped')
def test_dump_runs_a_command_entry_with_allow_pipes(in_tmp):
    samples = np.arange(-80, 80, dtype=np.int16) * 100
    write_wav(in_tmp / "clip.wav", samples)
    scp = write_scp(in_tmp / "wav.scp", [("a", "cat clip.wav |")])
    dump.main(["--wav_scp", str(scp), "--out_prefix", "out/feats.1", "--segment_sec", "0.01",
               "--allow_pipes", "true", "--verbose", "0"])
    np.testing.assert_array_equal(load_scp_arrays("out/feats.1.scp")["a"], samples)


@fault('a Kaldi command entry in the wav.scp given to `detect --scp`', 'refused with the fix',
       'names the file, the line and --allow_pipes; nothing runs')
def test_detect_refuses_a_command_entry_of_its_scp(in_tmp):
    scp = write_scp(in_tmp / "clips.scp", [("a", HOSTILE)])
    with pytest.raises(ValueError) as err:
        detect.main(["--inference_dir", "exp/none", "--machine", "fan", "--section", "id_00",
                     "--scp", str(scp), "--verbose", "0"])
    assert str(err.value) == refusal(scp, 1, "a")
    assert not (in_tmp / "pwned").exists()


@fault('a Kaldi command entry in a wav.scp the cluster labeller reads (stage 1)',
       'refused with the fix', 'names the file, the line and --allow_pipes; nothing runs')
def test_cluster_labeller_refuses_a_command_entry(in_tmp):
    data = in_tmp / "data" / "train"
    good = write_wav(in_tmp / "good.wav", np.arange(-800, 800, dtype=np.int16))
    write_scp(data / "wav.scp", [("fan-a", good), ("fan-b", HOSTILE)])
    write_scp(data / "utt2machine", [("fan-a", "fan"), ("fan-b", "fan")])
    before = snapshot(data)
    with pytest.raises(ValueError) as err:
        make_labels.main(["--scheme", "cluster", "--fit_dir", str(data), str(data),
                          "--verbose", "0"])
    assert str(err.value) == refusal(data / "wav.scp", 2, "fan-b")
    assert not (in_tmp / "pwned").exists() and snapshot(data) == before
