"""Detection of new recordings (same scores as stage 4) and the ONNX export (same as PyTorch)."""
import kaldiio
import numpy as np
import pytest
import torch
import torchaudio

from asd_lib.bin import detect, export_onnx
from asd_lib.corpus import get_corpus
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.export import OnnxScorer
from asd_lib.frontends.mel import power_spectrogram
from asd_lib.utils.fileio import read_kv
from report_fixtures import INFERENCE_TAG, TAG, tiny_experiment


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    return tiny_experiment(tmp_path_factory)


@pytest.fixture(scope="module")
def onnx_path(recipe, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    export_onnx.main(["--model", str(recipe / "exp" / TAG), "--out", str(path), "--verbose", "0"])
    return path


def run_detect(capsys, args):
    detect.main(args + ["--verbose", "0"])
    lines = capsys.readouterr().out.splitlines()
    return [(key, float(score), int(decision))
            for key, score, decision in (line.rsplit(" ", 2) for line in lines)]


def stage4_decisions(score_dir, data_dir):
    """{utt: decision} from the official decision files of stage 4."""
    wavs = read_kv(data_dir / "wav.scp")
    machines, sections = read_kv(data_dir / "utt2machine"), read_kv(data_dir / "utt2section")
    decided = {}
    for utt, wav in wavs.items():
        name = get_corpus("dcase2020").csv_name("decision_result", machines[utt], sections[utt])
        rows = dict(line.split(",") for line in (score_dir / name).read_text().splitlines())
        decided[utt] = int(rows[wav.rsplit("/", 1)[1]])
    return decided


def by_section(data):
    """{section: [(utt, wav path)]} of a data dir."""
    sections, wavs = read_kv(data / "utt2section"), read_kv(data / "wav.scp")
    out = {}
    for utt, wav in wavs.items():
        out.setdefault(sections[utt], []).append((utt, wav))
    return out


def test_detect_gives_stage4_scores_and_decisions(recipe, capsys):
    inference, data = recipe / "exp" / TAG / INFERENCE_TAG, recipe / "dump/dev_test"
    expected = read_kv(inference / "dev_test/utt2score")
    decided = stage4_decisions(inference / "dev_test", data)
    for section, clips in by_section(data).items():
        scp = recipe / f"{section}.scp"
        scp.write_text("".join(f"{u} {w}\n" for u, w in clips))
        results = run_detect(capsys, ["--inference_dir", str(inference), "--machine", "fan",
                                      "--section", section, "--scp", str(scp)])
        assert [key for key, _, _ in results] == [u for u, _ in clips]
        got = np.array([score for _, score, _ in results])
        assert np.abs(got - np.array([float(expected[u]) for u, _ in clips])).max() < 1e-5
        assert {key: d for key, _, d in results} == {u: decided[u] for u, _ in clips}
    assert 0 < sum(decided.values()) < len(decided)  # the thresholds split the clips


def test_detect_files_of_one_section_with_a_fixed_threshold(recipe, capsys):
    inference, data = recipe / "exp" / TAG / INFERENCE_TAG, recipe / "dump/dev_test"
    wavs = read_kv(data / "wav.scp")
    utts = [u for u in wavs if "_id_02_" in u][:3]
    expected = read_kv(inference / "dev_test/utt2score")
    scores = sorted(float(expected[u]) for u in utts)
    threshold = (scores[0] + scores[1]) / 2
    results = run_detect(capsys, ["--inference_dir", str(inference), "--machine", "fan",
                                  "--section", "id_02", "--threshold", repr(threshold)]
                         + [wavs[u] for u in utts])
    assert [key for key, _, _ in results] == [wavs[u] for u in utts]
    for (_, score, decision), utt in zip(results, utts):
        assert score == pytest.approx(float(expected[utt]), abs=1e-5)
        assert decision == int(float(expected[utt]) > threshold)


def test_detect_refuses_an_untrained_section(recipe):
    inference = recipe / "exp" / TAG / INFERENCE_TAG
    wav = next(iter(read_kv(recipe / "dump/dev_test/wav.scp").values()))
    with pytest.raises(ValueError, match=r"no threshold of fan id_99"):
        detect.main(["--inference_dir", str(inference), "--machine", "fan", "--section",
                     "id_99", wav])
    with pytest.raises(ValueError, match=r"was not trained on fan id_99"):
        detect.main(["--inference_dir", str(inference), "--machine", "fan", "--section",
                     "id_99", "--threshold", "1", wav])
    with pytest.raises(ValueError, match="give either wav files or --scp"):
        detect.main(["--inference_dir", str(inference), "--machine", "fan", "--section",
                     "id_00"])


@pytest.mark.parametrize("power", [2.0, 1.0])
def test_power_spectrogram_equals_torchaudio(power):
    spec = torchaudio.transforms.Spectrogram(n_fft=256, hop_length=64, power=power)
    wave = torch.randn(3, 2000, generator=torch.Generator().manual_seed(0))
    expected = spec(wave)
    got = power_spectrogram(spec, wave)
    assert got.shape == expected.shape == (3, 129, 32)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_onnx_export_scores_as_pytorch(recipe, onnx_path, tmp_path, capsys):
    exp, data = recipe / "exp" / TAG, recipe / "dump/dev_test"
    inference = exp / INFERENCE_TAG
    scorer = OnnxScorer(onnx_path)
    assert scorer.classes == [f"fan_id_0{i}" for i in range(7)] and scorer.takes_int16
    expected = read_kv(inference / "dev_test/utt2score")
    for section, clips in by_section(data).items():
        results = run_detect(capsys, ["--inference_dir", str(inference), "--onnx",
                                      str(onnx_path), "--machine", "fan", "--section", section]
                             + [w for _, w in clips])
        got = np.array([score for _, score, _ in results])
        assert np.abs(got - np.array([float(expected[u]) for u, _ in clips])).max() < 1e-4

    # Embeddings too, and a float32-input export scores the same clips alike.
    feats = load_scp_arrays(data / "feats.scp")
    utts = list(expected)
    waves = np.stack([feats[u] for u in utts])
    sections = read_kv(data / "utt2section")
    labels = np.array([scorer.classes.index(f"fan_{sections[u]}") for u in utts])
    scores, embeddings = scorer.score(waves, labels)
    assert np.abs(scores - np.array([float(expected[u]) for u in utts])).max() < 1e-4
    stage4 = kaldiio.load_scp(str(inference / "dev_test/embeddings.scp"))
    assert np.abs(embeddings - np.stack([stage4[u] for u in utts])).max() < 1e-4
    float_path = tmp_path / "tiny_float.onnx"
    export_onnx.main(["--model", str(exp), "--out", str(float_path), "--input_dtype",
                      "float32", "--verbose", "0"])
    float_scores, _ = OnnxScorer(float_path).score(waves.astype(np.float32) / 32768.0, labels)
    assert np.abs(float_scores - scores).max() < 1e-4


def test_onnx_scorer_checks_its_inputs(onnx_path, tmp_path):
    scorer = OnnxScorer(onnx_path)
    waves = np.zeros((1, scorer.num_samples), dtype=np.int16)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 6\]"):
        scorer.score(waves, np.array([7]))
    with pytest.raises(ValueError, match="takes int16 waveforms; got float64"):
        scorer.score(waves.astype(np.float64), np.array([0]))
    with pytest.raises(ValueError, match="no such ONNX file"):
        OnnxScorer(tmp_path / "missing.onnx")
