"""Inputs of ``python -m asd_lib.bin.detect`` that are not wav files, or wav files whose
names no clip list can hold: one error line naming the input and what to give instead,
before the experiment is read."""
import os

import pytest
from faultkit import SR, copy_experiment, fault, tone, write_wav

from asd_lib.bin import detect
from asd_lib.utils.cli import run_main
from inference_helpers import run_stage4


@pytest.fixture(scope="module")
def inference_dir(trained, tmp_path_factory):
    """Stage 4 of a copy of the shared toy experiment, scoring its training set."""
    exp = copy_experiment(trained.exp, tmp_path_factory.mktemp("detect") / "exp")
    return run_stage4(exp, trained.data, exp / "decode")


@fault('a directory given to `detect` as a wav', 'clear error',
       'one line naming the directory and what to give instead')
def test_a_directory_given_as_a_wav_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new clips").mkdir()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: detect.main(["--inference_dir", "exp/x/y", "--machine", "fan",
                                      "--section", "id_00", "--verbose", "0", "new clips"]))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.split(" ERROR: ", 1)[1] == (
        "new clips: a directory, not a wav file; give the wav files in it (e.g. new "
        "clips/*.wav) or a wav.scp with --scp\n")


@pytest.mark.parametrize("name, shown, problem", [
    (b"new\nclip.wav", "new\\nclip.wav", "has a line break"),
    (b"caf\xe9 clip.wav", "caf\\xe9 clip.wav", "is not UTF-8"),
])
@fault('a wav given to `detect` whose name has a line break or is not UTF-8', 'clear error',
       'one printable line naming the file given (escaped) and the fix')
def test_a_file_name_no_clip_list_can_hold_is_named(inference_dir, tmp_path, capsys,
                                                    monkeypatch, name, shown, problem):
    monkeypatch.chdir(tmp_path)
    os.rename(write_wav(tmp_path / "clip.wav", tone(440, SR)), os.fsencode(tmp_path) + b"/" + name)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: detect.main(["--inference_dir", str(inference_dir), "--machine",
                                      "fan", "--section", "id_00", "--verbose", "0",
                                      os.fsdecode(name)]))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.split(" ERROR: ", 1)[1] == (
        f"{shown}: the file name {problem}, which the clip lists of stage 2 (wav.scp, "
        "feats.scp: UTF-8 text, one clip a line) cannot hold; rename the file, or copy it to "
        "such a name\n")


@fault('a `--scp` list given to `detect` naming a wav whose name is not UTF-8', 'clear error',
       'one printable line naming the list, the line and the fix')
def test_a_list_that_is_not_utf8_is_named_with_its_line(inference_dir, tmp_path, capsys):
    wav = os.fsencode(tmp_path) + b"/caf\xe9 clip.wav"
    os.rename(write_wav(tmp_path / "clip.wav", tone(440, SR)), wav)
    scp = tmp_path / "new clips.scp"
    scp.write_bytes(b"a " + os.fsencode(tmp_path / "clip.wav") + b"\nb " + wav + b"\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: detect.main(["--inference_dir", str(inference_dir), "--machine",
                                      "fan", "--section", "id_00", "--verbose", "0",
                                      "--scp", str(scp)]))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.split(" ERROR: ", 1)[1] == (
        f"{scp}:2: not UTF-8 text (b {tmp_path}/caf\\xe9 clip.wav); a Kaldi list is UTF-8: "
        "rename the file it names to a UTF-8 name, or convert the list (iconv -t utf-8)\n")
