"""Inputs of ``python -m asd_lib.bin.detect`` that are not wav files: one error line naming
the input and what to give instead, before the experiment is read."""
import pytest
from faultkit import fault

from asd_lib.bin import detect
from asd_lib.utils.cli import run_main


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
