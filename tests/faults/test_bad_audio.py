"""Bad audio through the stage-2 entry point (``python -m asd_lib.bin.dump``).

Unusable files (corrupt, truncated, empty, no samples, NaN) end the job with one error
line naming the file and the fix, exit status 1, and the previous dump of the same
prefix byte-for-byte intact. Usable oddities (another rate, stereo, 8- or 24-bit PCM)
are converted, with exact sample values, and logged. Float samples beyond full scale are
clipped and logged with their share per file; more than ``--max_clipped`` (1 %) of them
is an error naming the file, the share and the option.
"""
import logging

import numpy as np
import pytest
from faultkit import SR, fault, snapshot, temp_files, tone, write_scp, write_wav

from asd_lib.bin import dump as dump_bin
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.utils.cli import run_main

FIX_REMOVE = "re-extract or re-download it, or remove it from wav.scp"


@pytest.fixture
def earlier(tmp_path):
    """A complete earlier dump at ``out/feats.1`` and a good wav for the new wav.scp."""
    good = write_wav(tmp_path / "good.wav", np.arange(-800, 800, dtype=np.int16))
    scp = write_scp(tmp_path / "old.scp", [("a", good)])
    dump_bin.main(["--wav_scp", str(scp), "--out_prefix", str(tmp_path / "out" / "feats.1"),
                   "--segment_sec", "0.1", "--verbose", "0"])
    return good, snapshot(tmp_path / "out")


def dump_fails(tmp_path, capsys, scp, *options) -> str:
    """Run the dump entry point as the shell does; return its one error message."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: dump_bin.main(["--wav_scp", str(scp), "--out_prefix",
                                        str(tmp_path / "out" / "feats.1"),
                                        "--segment_sec", "0.1", "--verbose", "0", *options]))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert " ERROR: " in lines[0]
    return lines[0].split(" ERROR: ", 1)[1]


def riff(good) -> bytes:
    return good.read_bytes()


BAD = {
    # name: (writer(path, good wav), expected message after "<path>: ")
    "corrupt": (lambda p, g: p.write_bytes(np.random.default_rng(0).bytes(3000)),
                "cannot read as audio (Format not recognised.); the file is corrupt, "
                f"truncated or not a wav: {FIX_REMOVE}"),
    "truncated": (lambda p, g: p.write_bytes(riff(g)[:44 + 1000]),
                  "truncated: the header declares 3200 bytes of audio but the file holds "
                  "1000; re-extract or re-download it"),
    "header_cut": (lambda p, g: p.write_bytes(riff(g)[:30]),
                   "cannot read as audio (Error in WAV file. No 'data' chunk marker.); the "
                   f"file is corrupt, truncated or not a wav: {FIX_REMOVE}"),
    "no_samples": (lambda p, g: write_wav(p, np.zeros(0, dtype=np.int16)),
                   "the wav holds no samples; re-extract it or remove it from wav.scp"),
    "nan": (lambda p, g: write_wav(p, np.array([0.1, np.nan, 0.2, np.nan], np.float32),
                                   subtype="FLOAT"),
            "2 NaN or Inf samples; regenerate the file (or remove it from wav.scp)"),
}


@fault('corrupt, header-cut, NaN, sample-less or truncated wav (stage 2)', 'clear error',
       'one line naming the file; the earlier dump is kept')
@pytest.mark.parametrize("kind", sorted(BAD))
def test_unusable_wav_is_one_error_line_and_keeps_the_earlier_dump(tmp_path, capsys, earlier,
                                                                   kind):
    good, before = earlier
    bad = tmp_path / f"bad {kind}.wav"
    writer, message = BAD[kind]
    writer(bad, good)
    scp = write_scp(tmp_path / "wav.scp", [("a", good), ("b", bad)])
    assert dump_fails(tmp_path, capsys, scp) == f"{bad}: {message}"
    assert snapshot(tmp_path / "out") == before and temp_files(tmp_path) == []


@fault('0-byte wav (stage 2)', 'clear error',
       'names the file and its wav.scp line')
def test_zero_byte_wav_is_named_with_its_wav_scp_line(tmp_path, capsys, earlier):
    good, before = earlier
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    scp = write_scp(tmp_path / "wav.scp", [("a", good), ("b", empty)])
    assert dump_fails(tmp_path, capsys, scp) == (
        f"{scp}:2: audio file {empty} of 'b' is empty (0 bytes); re-extract or re-download "
        "it, or remove line 2 from wav.scp")
    assert snapshot(tmp_path / "out") == before and temp_files(tmp_path) == []


@pytest.fixture
def dump_logged(tmp_path, monkeypatch, caplog):
    """Dump one wav with the entry point at INFO; return (int16 clip, log messages)."""
    monkeypatch.setattr(dump_bin, "setup_logging", lambda verbose: None)

    def run(wav, num_samples, *options):
        scp = write_scp(tmp_path / "wav.scp", [("u", wav)])
        prefix = tmp_path / "out" / "feats.1"
        with caplog.at_level(logging.INFO):
            dump_bin.main(["--wav_scp", str(scp), "--out_prefix", str(prefix),
                           "--segment_sec", str(num_samples / SR), *options])
        clip = load_scp_arrays(f"{prefix}.scp")["u"]
        assert clip.dtype == np.int16 and clip.shape == (num_samples,)
        return clip, [r.getMessage() for r in caplog.records]

    return run


@fault('wav at another sample rate', 'handled and logged',
       'resampled to the dump rate')
def test_wrong_rate_is_resampled_and_logged(tmp_path, dump_logged):
    wav = write_wav(tmp_path / "cd rate.wav", tone(1000, 4410, sr=44100), sr=44100)
    clip, log = dump_logged(wav, 1600)
    assert f"{wav}: resampled 44100 -> 16000 Hz" in log
    assert any(m.startswith("dumped 1 clips (0 referenced in place, 1 copied), 0 length-fixed, 1 "
                                 "resampled") for m in log)
    # Away from the edges the band-limited resampler reproduces the 16 kHz tone.
    expected = 32768 * tone(1000, 1600)
    assert np.abs(clip[100:-100] - expected[100:-100]).max() < 0.005 * 32768 * 0.3


@fault('multi-channel wav', 'handled and logged',
       'the first channel is kept')
def test_stereo_keeps_the_first_channel_and_logs(tmp_path, dump_logged):
    left = np.arange(-50, 50, dtype=np.int16) * 300
    wav = write_wav(tmp_path / "stereo.wav", np.stack([left, -left - 1], axis=1))
    clip, log = dump_logged(wav, 100)
    np.testing.assert_array_equal(clip, left)
    assert f"{wav}: 2 channels, kept the first" in log


@fault('8-bit PCM wav', 'handled and logged',
       'scaled exactly to int16')
def test_8bit_is_scaled_exactly_and_not_reported(tmp_path, dump_logged):
    # Unsigned 8-bit code c holds (c - 128) / 128; in int16 that is (c - 128) * 256: exact.
    steps = np.array([-128, -127, -1, 0, 1, 64, 127])
    wav = write_wav(tmp_path / "u8.wav", steps / 128, subtype="PCM_U8")
    clip, log = dump_logged(wav, len(steps))
    np.testing.assert_array_equal(clip, steps * 256)
    assert not [m for m in log if str(wav) in m]  # lossless: nothing to report


PCM24 = np.array([0x123456, 0x1234C0, -0x123440, -0x123480, 0x7FFFFF, -0x800000, 0x80])


@fault('24-bit PCM wav', 'handled and logged',
       'rounded to int16')
def test_24bit_is_rounded_to_int16(tmp_path, dump_logged):
    wav = write_wav(tmp_path / "s24.wav", (PCM24 * 256).astype(np.int32), subtype="PCM_24")
    clip, _ = dump_logged(wav, len(PCM24))
    # v / 2**23 in int16 units is v / 256, rounded half to even and clipped:
    # 0x1234.56 -> 0x1234, 0x1234.C0 -> 0x1235, -0x1234.40 -> -0x1234,
    # -0x1234.80 -> -0x1234 (tie to even), 0x7FFF.FF -> 32767 (clipped), 0x0.80 -> 0
    np.testing.assert_array_equal(clip, [0x1234, 0x1235, -0x1234, -0x1234, 32767, -32768, 0])


@fault('24-bit PCM wav whose rounding matters', 'handled and logged',
       'the rounding is logged')
def test_24bit_rounding_is_logged(tmp_path, dump_logged):
    wav = write_wav(tmp_path / "s24.wav", (PCM24 * 256).astype(np.int32), subtype="PCM_24")
    _, log = dump_logged(wav, len(PCM24))
    assert f"{wav}: PCM_24 samples rounded to 16 bits" in log


def too_loud(num: int, over: int) -> np.ndarray:
    """A float clip of ``num`` samples whose first ``over`` lie beyond full scale, +-1.5."""
    x = np.linspace(-0.9, 0.9, num)
    x[:over] = np.where(np.arange(over) % 2, -1.5, 1.5)
    return x


@fault('float wav with more than 1 % of its samples beyond full scale', 'refused with the fix',
       'names the file, the share and --max_clipped; the earlier dump is kept')
def test_float_wav_clipped_beyond_the_limit_is_refused(tmp_path, capsys, earlier):
    good, before = earlier
    loud = write_wav(tmp_path / "loud mix.wav", too_loud(1600, 624), subtype="FLOAT")
    scp = write_scp(tmp_path / "wav.scp", [("a", good), ("b", loud)])
    assert dump_fails(tmp_path, capsys, scp) == (
        f"{loud}: 624 of 1600 samples (39.00%) are beyond full scale and would be clipped, "
        "more than --max_clipped 0.01 allows; normalise the file, or re-run with a higher "
        "--max_clipped (1.0 allows any)")
    assert snapshot(tmp_path / "out") == before and temp_files(tmp_path) == []
    assert dump_fails(tmp_path, capsys, scp, "--max_clipped", "0.3").startswith(
        f"{loud}: 624 of 1600 samples (39.00%) are beyond full scale and would be clipped, "
        "more than --max_clipped 0.3 allows")


@fault('float wav beyond full scale, allowed by `--max_clipped`', 'handled and logged',
       'clipped to int16; the file and its clipped share are logged')
def test_clipping_allowed_by_max_clipped_is_logged_with_its_share(tmp_path, dump_logged):
    x = too_loud(1600, 624)
    wav = write_wav(tmp_path / "loud mix.wav", x, subtype="FLOAT")
    clip, log = dump_logged(wav, 1600, "--max_clipped", "1.0")
    assert f"{wav}: 624 of 1600 samples (39.00%) beyond full scale, clipped" in log
    expected = np.clip(np.rint(x.astype(np.float32) * 32768), -32768, 32767)
    np.testing.assert_array_equal(clip, expected)
    assert clip[:2].tolist() == [32767, -32768]


@fault('float wav with a few samples beyond full scale (under 1 %)', 'handled and logged',
       'clipped; the file and its clipped share are logged')
def test_a_few_clipped_samples_are_logged_and_dumped(tmp_path, dump_logged):
    wav = write_wav(tmp_path / "peaky.wav", too_loud(1600, 16), subtype="FLOAT")
    clip, log = dump_logged(wav, 1600)
    assert f"{wav}: 16 of 1600 samples (1.00%) beyond full scale, clipped" in log
    assert clip[:2].tolist() == [32767, -32768]
