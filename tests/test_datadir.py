"""Tests for asd_lib.data.datadir, its entry point and utils/validate_data_dir.sh."""
import subprocess
import sys
from pathlib import Path

import pytest

from asd_lib.bin import validate_data_dir as validate_bin
from asd_lib.data.datadir import (
    DATA_FILES,
    DataDirError,
    load_data_dir,
    utt_ids,
    validate_data_dir,
)

REPO = Path(__file__).resolve().parents[1]
# C-locale byte order: "-" (0x2d) < "_" (0x5f), uppercase (0x41-0x5a) < lowercase.
UTTS = [
    "Valve_id_00_0001", "fan-anomaly_id_00_0001", "fan-normal_id_00_0001", "fan_normal_id_02_0002"
]


def write(path: Path, rows):
    path.write_text("".join(f"{k} {v}\n" for k, v in rows))


@pytest.fixture
def good_dir(tmp_path):
    """A four-clip data dir with every file of DATA_FILES but feats.scp; audio files exist."""
    data = tmp_path / "data" / "dev_test"
    data.mkdir(parents=True)
    audio = tmp_path / "audio"
    audio.mkdir()
    wavs = []
    for utt in UTTS:
        wav = audio / f"{utt}.wav"
        wav.write_bytes(b"RIFF0000")
        wavs.append(str(wav))
    write(data / "wav.scp", zip(UTTS, wavs))
    write(data / "utt2machine", zip(UTTS, ["valve", "fan", "fan", "fan"]))
    write(data / "utt2section", zip(UTTS, ["id_00", "id_00", "id_00", "id_02"]))
    write(data / "utt2domain", zip(UTTS, ["source", "source", "target", "source"]))
    write(data / "utt2attr", zip(UTTS, ["noAttribute", "v_1 x", "noAttribute", "noAttribute"]))
    write(data / "utt2label", zip(UTTS, ["normal", "anomaly", "normal", "normal"]))
    write(data / "utt2class", zip(UTTS, ["valve_id_00", "fan_id_00", "fan_id_00", "fan_id_02"]))
    return data


def test_good_dir_returns_count(good_dir):
    assert validate_data_dir(good_dir, check_audio=True) == 4
    assert validate_data_dir(good_dir, require=DATA_FILES[:1] + DATA_FILES[2:]) == 4


def test_feats_scp_alone_indexes_the_dir(good_dir):
    (good_dir / "wav.scp").rename(good_dir / "feats.scp")
    assert validate_data_dir(good_dir) == 4
    assert utt_ids(good_dir) == UTTS


def test_load_data_dir_and_utt_ids(good_dir):
    tables = load_data_dir(good_dir)
    assert sorted(tables) == sorted(set(DATA_FILES) - {"feats.scp"})
    assert tables["utt2label"]["fan-anomaly_id_00_0001"] == "anomaly"
    assert tables["utt2attr"]["fan-anomaly_id_00_0001"] == "v_1 x"
    assert list(tables["utt2section"].values()) == ["id_00", "id_00", "id_00", "id_02"]
    assert utt_ids(good_dir) == UTTS


def test_pipe_entries_skip_audio_check(good_dir):
    rows = [(u, f"sox /nowhere/{u}.flac -t wav - |") for u in UTTS]
    write(good_dir / "wav.scp", rows)
    assert validate_data_dir(good_dir, check_audio=True) == 4


def _lines(path):
    return path.read_text().splitlines(keepends=True)


def make_unsorted(d):
    lines = _lines(d / "utt2machine")
    (d / "utt2machine").write_text("".join([lines[1], lines[0], *lines[2:]]))


def make_unsorted_by_locale(d):
    # en_US order would put lowercase "fan" before "Valve"; C order does not.
    for name in [n for n in DATA_FILES if (d / n).exists()]:
        lines = _lines(d / name)
        (d / name).write_text("".join(lines[1:] + lines[:1]))


def make_duplicate(d):
    lines = _lines(d / "utt2section")
    duplicate = lines[0].replace(" id_00", " id_01")
    (d / "utt2section").write_text("".join([lines[0], duplicate, *lines[1:]]))


def make_cr(d):
    (d / "utt2domain").write_text((d / "utt2domain").read_text().replace("\n", "\r\n"))


def make_missing_key(d):
    lines = _lines(d / "utt2machine")
    (d / "utt2machine").write_text("".join(lines[:2] + lines[3:]))


def make_extra_key(d):
    with open(d / "utt2class", "a") as f:
        f.write("zzz_extra fan_id_00\n")


def make_bad_label(d):
    text = (d / "utt2label").read_text()
    (d / "utt2label").write_text(text.replace(" anomaly\n", " abnormal\n"))


def make_bad_domain(d):
    (d / "utt2domain").write_text((d / "utt2domain").read_text().replace("target", "tgt"))


def make_empty(d):
    (d / "utt2attr").write_text("")


def make_no_value(d):
    text = (d / "utt2attr").read_text()
    (d / "utt2attr").write_text(text.replace("Valve_id_00_0001 noAttribute", "Valve_id_00_0001"))


def make_blank_line(d):
    (d / "utt2class").write_text((d / "utt2class").read_text().replace("\n", "\n\n", 1))


def make_missing_required(d):
    (d / "utt2section").unlink()


def make_no_index(d):
    (d / "wav.scp").unlink()


@pytest.mark.parametrize(
    "corrupt, bad_file, words",
    [
        (make_unsorted, "utt2machine", ["not sorted", "LC_ALL=C sort -k1,1 -o"]),
        (make_unsorted_by_locale, "wav.scp", ["not sorted"]),
        (make_duplicate, "utt2section", ["duplicate key 'Valve_id_00_0001'"]),
        (make_cr, "utt2domain", ["Windows line endings", "dos2unix"]),
        (make_missing_key, "utt2machine", ["'fan-normal_id_00_0001' of wav.scp is missing"]),
        (make_extra_key, "utt2class", ["'zzz_extra' is not in wav.scp"]),
        (make_bad_label, "utt2label", ["'abnormal'", "normal, anomaly"]),
        (make_bad_domain, "utt2domain", ["'tgt'", "source, target"]),
        (make_empty, "utt2attr", ["empty"]),
        (make_no_value, "utt2attr:1", ["expected '<utt-id> <value>'"]),
        (make_blank_line, "utt2class:2", ["expected '<utt-id> <value>'"]),
        (make_missing_required, "utt2section", ["required file utt2section is missing"]),
        (make_no_index, "dev_test", ["neither wav.scp nor feats.scp"]),
    ],
)
def test_bad_dir_raises_naming_file(good_dir, corrupt, bad_file, words):
    corrupt(good_dir)
    with pytest.raises(DataDirError) as info:
        validate_data_dir(good_dir)
    message = str(info.value)
    assert bad_file in message
    for word in words:
        assert word in message


def test_missing_and_empty_audio_with_check_audio(good_dir):
    wav_scp = good_dir / "wav.scp"
    wav = Path(wav_scp.read_text().splitlines()[2].split()[1])
    wav.unlink()
    assert validate_data_dir(good_dir) == 4  # paths are only checked on request
    with pytest.raises(DataDirError, match=r"wav\.scp:3: audio file .* does not exist"):
        validate_data_dir(good_dir, check_audio=True)
    wav.write_bytes(b"")
    with pytest.raises(DataDirError, match=r"wav\.scp:3: audio file .* is empty"):
        validate_data_dir(good_dir, check_audio=True)


def test_not_a_directory_and_unknown_require(tmp_path):
    with pytest.raises(DataDirError, match="not a directory"):
        validate_data_dir(tmp_path / "nope")
    with pytest.raises(ValueError, match="unknown data file"):
        validate_data_dir(tmp_path, require=("utt2spk",))


def test_cli_reports_each_dir(good_dir, tmp_path, capsys):
    validate_bin.main(["--require", "utt2label", "--check_audio", "true", str(good_dir)])
    assert capsys.readouterr().out == f"validated {good_dir}: 4 utterances\n"
    make_bad_label(good_dir)
    with pytest.raises(SystemExit) as info:
        validate_bin.main([str(good_dir), str(tmp_path / "nope")])
    assert info.value.code == 1


def test_shell_wrapper(good_dir, tmp_path):
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    (recipe / "utils").symlink_to(REPO / "utils")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    cmd = ["utils/validate_data_dir.sh", "--check-audio", "--require", "utt2label", str(good_dir)]
    res = subprocess.run(cmd, cwd=recipe, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"validated {good_dir}: 4 utterances\n"
    make_missing_key(good_dir)
    res = subprocess.run(cmd, cwd=recipe, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "utt2machine" in res.stderr and "is missing" in res.stderr
    res = subprocess.run(
        ["utils/validate_data_dir.sh", "--bogus", str(good_dir)],
        cwd=recipe, env=env, capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 2 and "unknown option --bogus" in res.stderr
