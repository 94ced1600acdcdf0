"""Stage 2: wav reading (formats, channels, rates, bad files), length fixing, ark/scp dump."""
import logging
import os
import shlex

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from asd_lib.bin import dump as dump_bin
from asd_lib.data.audio import AudioError, dump_wav_scp, fix_length, read_wav
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.utils.cli import run_main

SR = 16000


def write_scp(path, entries):
    path.write_text("".join(f"{utt} {value}\n" for utt, value in entries))
    return path


def dump_files(prefix):
    return [p for p in (f"{prefix}.ark", f"{prefix}.scp") if os.path.exists(p)]


# ---------------------------------------------------------------- formats


def test_pcm16_round_trips_bit_exactly(tmp_path):
    x = np.array([-32768, -12345, -1, 0, 1, 2, 12345, 32767], dtype=np.int16)
    sf.write(tmp_path / "a.wav", x, SR, subtype="PCM_16")
    y = read_wav(tmp_path / "a.wav")
    assert y.dtype == np.int16 and y.ndim == 1
    np.testing.assert_array_equal(y, x)


def test_pcm24_is_rounded_to_int16(tmp_path):
    # 24-bit values v are v / 2**23 in float, i.e. v / 256 in int16 units.
    v24 = np.array([0x123456, 0x1234C0, -0x123440, 0x7FFFFF, -0x800000, 0], dtype=np.int32)
    sf.write(tmp_path / "a.wav", v24 * 256, SR, subtype="PCM_24")
    y = read_wav(tmp_path / "a.wav")
    # 0x1234.34 -> 0x1234, 0x1234.C0 -> 0x1235, -0x1234.40 -> -0x1234, 0x7FFF.FF -> clip
    np.testing.assert_array_equal(y, [0x1234, 0x1235, -0x1234, 32767, -32768, 0])


def test_pcm8_unsigned_is_scaled_by_256(tmp_path):
    k = np.array([-128, -3, 0, 5, 127])
    sf.write(tmp_path / "a.wav", k / 128.0, SR, subtype="PCM_U8")
    assert sf.info(tmp_path / "a.wav").subtype == "PCM_U8"
    y = read_wav(tmp_path / "a.wav")
    np.testing.assert_array_equal(y, k * 256)


def test_float32_is_rounded_and_clipped(tmp_path):
    x = np.array([0.5, -0.5, 0.1, 1.5, -2.0, 0.0], dtype=np.float32)
    sf.write(tmp_path / "a.wav", x, SR, subtype="FLOAT")
    y = read_wav(tmp_path / "a.wav", max_clipped=1.0)  # 2 of 6 samples clipped
    # 0.1 (float32 0.100000001) * 32768 = 3276.8 -> 3277
    np.testing.assert_array_equal(y, [16384, -16384, 3277, 32767, -32768, 0])


def test_stereo_keeps_first_channel_and_logs(tmp_path, caplog):
    left = np.arange(10, dtype=np.int16)
    right = np.full(10, -7, dtype=np.int16)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="PCM_16")
    with caplog.at_level(logging.INFO):
        y = read_wav(path)
    np.testing.assert_array_equal(y, left)
    assert any(str(path) in r.getMessage() and "2 channels" in r.getMessage()
               for r in caplog.records)


def test_8khz_is_resampled_to_16khz(tmp_path, caplog):
    t8 = np.arange(8000) / 8000
    path = tmp_path / "low.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t8), 8000, subtype="PCM_16")
    with caplog.at_level(logging.INFO):
        y = read_wav(path, target_sr=SR)
    assert y.shape == (16000,) and y.dtype == np.int16
    expected = 0.5 * 32768 * np.sin(2 * np.pi * 440 * np.arange(16000) / SR)
    # Away from the edges the band-limited interpolation matches the 16 kHz sine.
    assert np.abs(y[200:-200] - expected[200:-200]).max() < 0.01 * 16384
    assert any(str(path) in r.getMessage() and "8000 -> 16000" in r.getMessage()
               for r in caplog.records)


def test_path_with_spaces_and_pipe_command(tmp_path):
    x = np.array([3, -4, 5, -6, 7, -8, 9, -10], dtype=np.int16)
    spaced = tmp_path / "dir with space" / "a b.wav"
    spaced.parent.mkdir()
    sf.write(spaced, x, SR, subtype="PCM_16")
    scp = write_scp(tmp_path / "wav.scp", [
        ("u1", str(spaced)),
        ("u2", f"cat {shlex.quote(str(spaced))} |"),
    ])
    dump_wav_scp(scp, tmp_path / "out" / "feats.1", segment_sec=8 / SR, allow_pipes=True)
    table = load_scp_arrays(tmp_path / "out" / "feats.1.scp")
    np.testing.assert_array_equal(table["u1"], x)
    np.testing.assert_array_equal(table["u2"], x)


# ---------------------------------------------------------------- fix_length


def test_fix_length_tile_pad_crop():
    x = np.array([1, 2, 3], dtype=np.int16)
    y, note = fix_length(x, 8, "tile")
    np.testing.assert_array_equal(y, [1, 2, 3, 1, 2, 3, 1, 2])
    assert note == "tiled 3 -> 8"
    y, note = fix_length(x, 8, "pad")
    np.testing.assert_array_equal(y, [1, 2, 3, 0, 0, 0, 0, 0])
    assert note == "padded 3 -> 8" and y.dtype == np.int16
    y, note = fix_length(np.arange(176000, dtype=np.int16), 160000)
    np.testing.assert_array_equal(y, np.arange(160000, dtype=np.int16))
    assert note == "cropped 176000 -> 160000"
    y, note = fix_length(x, 3)
    assert note is None and y is x
    with pytest.raises(ValueError, match="short"):
        fix_length(x, 8, "repeat")


# ---------------------------------------------------------------- dump


@pytest.mark.parametrize("copy", ["auto", "always"])
def test_dump_writes_fixed_length_int16_ark_scp(tmp_path, monkeypatch, caplog, copy):
    monkeypatch.chdir(tmp_path)
    short = np.array([1, 2, 3], dtype=np.int16)
    exact = np.arange(-4, 4, dtype=np.int16)
    long = np.arange(100, 112, dtype=np.int16)
    for name, x in [("short", short), ("exact", exact), ("long", long)]:
        sf.write(f"{name}.wav", x, SR, subtype="PCM_16")
    sf.write("low.wav", np.zeros(4), 8000, subtype="PCM_16")
    scp = write_scp(tmp_path / "wav.scp", [
        ("a_short", "short.wav"), ("b_exact", "exact.wav"),
        ("c_long", "long.wav"), ("d_low", "low.wav"),
    ])
    with caplog.at_level(logging.INFO):
        stats = dump_wav_scp(scp, "dump/split/feats.3", segment_sec=8 / SR, short_clip="pad",
                             copy=copy)
    referenced = 2 if copy == "auto" else 0
    assert (stats.num_clips, stats.num_referenced, stats.num_length_fixed,
            stats.num_resampled) == (4, referenced, 2, 1)
    messages = [r.getMessage() for r in caplog.records]
    cropped = "c_long: cropped 12 -> 8" + (" (in place)" if copy == "auto" else "")
    assert "a_short: padded 3 -> 8" in messages and cropped in messages
    assert any(m.startswith(f"dumped 4 clips ({referenced} referenced in place, "
                            f"{4 - referenced} copied), 2 length-fixed, 1 resampled")
               for m in messages)

    lines = open("dump/split/feats.3.scp").read().splitlines()
    locations = dict(line.split() for line in lines)
    assert list(locations) == ["a_short", "b_exact", "c_long", "d_low"]
    in_place = {"b_exact": "exact.wav:0", "c_long": "long.wav:0[0:7]"} if copy == "auto" else {}
    for utt, location in locations.items():
        assert location == in_place.get(utt, location)
        assert utt in in_place or location.startswith("dump/split/feats.3.ark:")
    expected = {
        "a_short": [1, 2, 3, 0, 0, 0, 0, 0], "b_exact": exact,
        "c_long": long[:8], "d_low": np.zeros(8),
    }
    table = load_scp_arrays("dump/split/feats.3.scp")
    for utt, location in locations.items():
        theirs = kaldiio.load_mat(location)  # kaldiio reads a referenced wav as (rate, samples)
        if utt in in_place:
            assert theirs[0] == SR
            theirs = theirs[1]
        for y in (table[utt], theirs):
            assert y.dtype == np.int16 and y.shape == (8,)
            np.testing.assert_array_equal(y, expected[utt])
    assert sorted(os.listdir("dump/split")) == ["feats.3.ark", "feats.3.scp"]


def test_clean_clips_only_write_no_archive_and_a_stale_one_goes(tmp_path):
    x = np.arange(-8, 8, dtype=np.int16)
    sf.write(tmp_path / "a.wav", x, SR, subtype="PCM_16")
    sf.write(tmp_path / "stereo.wav", np.stack([x, -x], axis=1), SR, subtype="PCM_16")
    prefix = tmp_path / "out" / "feats.1"
    dump_wav_scp(write_scp(tmp_path / "wav.scp", [("s", tmp_path / "stereo.wav")]), prefix,
                 segment_sec=16 / SR)
    assert dump_files(prefix) == [f"{prefix}.ark", f"{prefix}.scp"]
    stats = dump_wav_scp(write_scp(tmp_path / "wav2.scp", [("a", tmp_path / "a.wav")]), prefix,
                         segment_sec=16 / SR)
    assert stats.num_referenced == 1 and dump_files(prefix) == [f"{prefix}.scp"]
    assert open(f"{prefix}.scp").read() == f"a {tmp_path / 'a.wav'}:0\n"
    np.testing.assert_array_equal(load_scp_arrays(f"{prefix}.scp")["a"], x)


@pytest.mark.parametrize("subtype, rate, frames", [
    ("PCM_24", SR, 16), ("FLOAT", SR, 16), ("PCM_16", 8000, 16), ("PCM_16", SR, 15)])
def test_clips_needing_conversion_are_copied(tmp_path, subtype, rate, frames):
    sf.write(tmp_path / "a.wav", np.linspace(-0.5, 0.5, frames), rate, subtype=subtype)
    prefix = tmp_path / "feats.1"
    stats = dump_wav_scp(write_scp(tmp_path / "wav.scp", [("a", tmp_path / "a.wav")]), prefix,
                         segment_sec=16 / SR)
    assert stats.num_referenced == 0
    assert open(f"{prefix}.scp").read().startswith(f"a {prefix}.ark:")


def test_main_tiles_short_clips(tmp_path):
    sf.write(tmp_path / "s.wav", np.array([5, -6, 7], dtype=np.int16), SR, subtype="PCM_16")
    scp = write_scp(tmp_path / "wav.scp", [("u", str(tmp_path / "s.wav"))])
    prefix = tmp_path / "feats.1"
    dump_bin.main(["--wav_scp", str(scp), "--out_prefix", str(prefix),
                   "--segment_sec", str(7 / SR), "--short_clip", "tile", "--verbose", "0"])
    y = load_scp_arrays(f"{prefix}.scp")["u"]
    np.testing.assert_array_equal(y, [5, -6, 7, 5, -6, 7, 5])


def _bad_wavs(tmp_path):
    """(name, writer) pairs: each writer creates one unusable wav at the given path."""
    good = tmp_path / "good.wav"
    sf.write(good, np.arange(1000, dtype=np.int16), SR, subtype="PCM_16")
    data = good.read_bytes()

    def nan_float(path):
        sf.write(path, np.array([0.1, np.nan, 0.2], dtype=np.float32), SR, subtype="FLOAT")

    return {
        "corrupt": lambda p: p.write_bytes(np.random.default_rng(0).bytes(3000)),
        "truncated_header": lambda p: p.write_bytes(data[:30]),
        "truncated_data": lambda p: p.write_bytes(data[:44 + 500]),
        "header_only": lambda p: p.write_bytes(data[:44]),
        "zero_bytes": lambda p: p.write_bytes(b""),
        "nan_float": nan_float,
    }


@pytest.mark.parametrize("kind", [
    "corrupt", "truncated_header", "truncated_data", "header_only", "zero_bytes", "nan_float",
])
def test_bad_wav_names_the_file_and_leaves_no_output(tmp_path, kind):
    bad = tmp_path / f"bad {kind}.wav"
    _bad_wavs(tmp_path)[kind](bad)
    with pytest.raises(AudioError) as err:
        read_wav(bad)
    assert str(bad) in str(err.value)

    scp = write_scp(tmp_path / "wav.scp", [("a", str(tmp_path / "good.wav")), ("b", str(bad))])
    prefix = tmp_path / "out" / "feats.1"
    with pytest.raises(AudioError, match=str(bad)):
        dump_wav_scp(scp, prefix, segment_sec=0.05)
    assert not (tmp_path / "out").exists()  # the good clip comes first: nothing was written


def test_error_messages_for_specific_faults(tmp_path):
    bad = _bad_wavs(tmp_path)
    for kind, pattern in [("zero_bytes", "empty"), ("truncated_data", "truncated"),
                          ("nan_float", "NaN"), ("header_only", "truncated")]:
        bad[kind](tmp_path / f"{kind}.wav")
        with pytest.raises(AudioError, match=pattern):
            read_wav(tmp_path / f"{kind}.wav")
    with pytest.raises(AudioError, match="missing.wav: cannot open"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="exited with status 3"):
        read_wav("exit 3 |", pipe=True)


def test_failed_rerun_keeps_previous_output(tmp_path, capsys):
    good = tmp_path / "good.wav"
    sf.write(good, np.arange(16, dtype=np.int16), SR, subtype="PCM_16")
    prefix = tmp_path / "feats.2"
    dump_wav_scp(write_scp(tmp_path / "wav.scp", [("a", str(good))]), prefix,
                 segment_sec=16 / SR)
    before = {p: open(p, "rb").read() for p in dump_files(prefix)}
    assert len(before) == 1  # a clean clip is referenced in place: no archive

    (tmp_path / "bad.wav").write_bytes(b"not a wav at all" * 10)
    scp = write_scp(tmp_path / "wav2.scp", [("a", str(good)), ("b", str(tmp_path / "bad.wav"))])
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: dump_bin.main(["--wav_scp", str(scp), "--out_prefix", str(prefix),
                                        "--segment_sec", str(16 / SR)]))
    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert f"ERROR: {tmp_path / 'bad.wav'}: cannot read as audio (Format not recognised" in stderr
    assert {p: open(p, "rb").read() for p in dump_files(prefix)} == before
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["good.wav", "bad.wav", "wav.scp", "wav2.scp", "feats.2.scp"])
    np.testing.assert_array_equal(load_scp_arrays(f"{prefix}.scp")["a"], np.arange(16))

    # A successful re-run replaces both files consistently.
    sf.write(good, np.arange(16, 32, dtype=np.int16), SR, subtype="PCM_16")
    dump_wav_scp(tmp_path / "wav.scp", prefix, segment_sec=16 / SR, copy="always")
    np.testing.assert_array_equal(load_scp_arrays(f"{prefix}.scp")["a"], np.arange(16, 32))
