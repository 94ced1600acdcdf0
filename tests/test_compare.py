"""The paired comparison of two systems: the vectorised AUC / pAUC against scikit-learn,
the stratified resampling, the resampled headline numbers against the official scorers,
the bootstrap against a hand-worked case and a plain loop, Welch's test against scipy,
and the CLI (compare, show_results --compare) on fabricated inference dirs."""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from asd_lib.bin import compare as compare_cli
from asd_lib.bin import show_results
from asd_lib.corpus import get_corpus
from asd_lib.corpus.dcase2024 import EVALUATOR as DCASE2024_EVALUATOR
from asd_lib.inference.config import InferenceConfig, InferenceRecord
from asd_lib.metrics import dcase2020
from asd_lib.metrics.domain_shift import SectionClips
from asd_lib.metrics.ranked_auc import roc_areas
from asd_lib.metrics.resampled import ClipLayout, stratified_indices
from asd_lib.report.compare import compare, welch_test
from asd_lib.utils.fileio import write_kv

NO_DIFFERENCE = "no significant difference at 95 %"

# (machine, section, domain, label) of a clip
Clip = Tuple[str, str, str, str]


# ------------------------------------------------------------------ fabricated recipes


def clip_name(dataset: str, clip: Clip, index: int) -> Tuple[str, str]:
    """(utterance ID, official file name) of a fabricated clip."""
    machine, section, domain, label = clip
    if dataset == "dcase2020":
        name = f"{label}_{section}_{index:08d}"
    else:
        name = f"{section}_{domain}_test_{label}_{index:04d}"
    return f"{machine}-{name}", f"{name}.wav"


def write_test_set(data_dir: Path, dataset: str, clips: Sequence[Clip]) -> None:
    """A data dir with ground truth: wav.scp, utt2machine/section/domain/label."""
    data_dir.mkdir(parents=True)
    tables: Dict[str, List[Tuple[str, str]]] = {n: [] for n in (
        "wav.scp", "utt2machine", "utt2section", "utt2domain", "utt2label")}
    for i, clip in enumerate(clips):
        utt, name = clip_name(dataset, clip, i)
        tables["wav.scp"].append((utt, f"/corpus/{clip[0]}/test/{name}"))
        for key, value in zip(("utt2machine", "utt2section", "utt2domain", "utt2label"), clip):
            tables[key].append((utt, value))
    for key, rows in tables.items():
        write_kv(data_dir / key, rows)


def write_system(inference_dir: Path, dataset: str, dset: str, clips: Sequence[Clip],
                 scores: Sequence[float]) -> Path:
    """An inference dir as stage 4 leaves it: inference.yaml, and in ``<dset>/`` utt2score
    and the official score and decision CSVs (decision: score > 0.5)."""
    inference_dir.mkdir(parents=True, exist_ok=True)
    InferenceRecord(InferenceConfig(score="neg_log_prob"), "best", dataset, "dump/train").write(inference_dir)
    out = inference_dir / dset
    out.mkdir()
    corpus = get_corpus(dataset)
    rows: Dict[str, List[str]] = {}
    utt2score = []
    for i, (clip, score) in enumerate(zip(clips, scores)):
        utt, name = clip_name(dataset, clip, i)
        utt2score.append((utt, repr(float(score))))
        for kind, value in (("anomaly_score", repr(float(score))),
                            ("decision_result", str(int(score > 0.5)))):
            rows.setdefault(corpus.csv_name(kind, clip[0], clip[1], name), []).append(
                f"{name},{value}\n")
    write_kv(out / "utt2score", utt2score)
    for file_name, lines in rows.items():
        (out / file_name).write_text("".join(sorted(lines)))
    return inference_dir


def dcase2020_clips(rng, machines=("fan", "pump"), ids=("id_00", "id_02"), normal=8,
                    anomaly=5) -> List[Clip]:
    clips = []
    for machine in machines:
        for section in ids:
            n_normal = normal + int(rng.integers(0, 3))
            clips += [(machine, section, "source", "normal")] * n_normal
            clips += [(machine, section, "source", "anomaly")] * anomaly
    return clips


def domain_shift_clips(rng, machines=("fan", "valve"), normal=(7, 3), anomaly=(3, 2)
                       ) -> List[Clip]:
    clips = []
    for machine in machines:
        for domain, n_normal, n_anomaly in zip(("source", "target"), normal, anomaly):
            clips += [(machine, "section_00", domain, "normal")] * (n_normal
                                                                     + int(rng.integers(0, 2)))
            clips += [(machine, "section_00", domain, "anomaly")] * n_anomaly
    return clips


def labels_of(clips: Sequence[Clip]) -> np.ndarray:
    return np.array([c[3] == "anomaly" for c in clips], dtype=int)


def official_headline(dataset: str, data_dir: Path, score_dir: Path, tmp: Path) -> np.ndarray:
    """The headline numbers of the official scorer, read back from its result.json."""
    scorer = get_corpus(dataset).scorer
    scorer.write_results(scorer.evaluate(data_dir, score_dir, scorer.protocols[0]), tmp)
    data = json.loads((tmp / "result.json").read_text())
    values = []
    for _, keys in scorer.headline:
        value = data
        for key in keys:
            value = value[key]
        values.append(value)
    return np.array(values)


# --------------------------------------------------------------------- ranked AUC


def test_roc_areas_equal_sklearn_on_random_and_tied_scores():
    rng = np.random.default_rng(7)
    checked = 0
    for case in range(60):
        n = int(rng.integers(4, 80))
        y = rng.integers(0, 2, n)
        if y.min() == y.max():
            continue
        scores = rng.normal(size=(4, n))
        if case % 2:  # few distinct values: many ties within and across classes
            scores = np.round(scores * 2) / 2
        max_fpr = (0.1, 0.05, 0.37, 1.0)[case % 4]
        auc, pauc = roc_areas(y, scores, max_fpr)
        for row in range(4):
            assert auc[row] == pytest.approx(roc_auc_score(y, scores[row]), abs=1e-12)
            expected = roc_auc_score(y, scores[row], max_fpr=None if max_fpr == 1 else max_fpr)
            assert pauc[row] == pytest.approx(expected, abs=1e-12)
            checked += 1
    assert checked > 150


def test_roc_areas_hand_worked():
    # normals 0.2, 0.6 and one anomaly 0.4: the anomaly beats one normal of two, AUC 1/2;
    # the top normal (0.6) is above it, so the ROC stays at TPR 0 over FPR [0, 0.1]:
    # pAUC = 0.5 * (1 + (0 - 0.005) / (0.1 - 0.005)) = 9/19
    auc, pauc = roc_areas([0, 0, 1], [[0.2, 0.6, 0.4], [0.2, 0.6, 0.8], [0.4, 0.6, 0.4]])
    np.testing.assert_allclose(auc, [0.5, 1.0, 0.25], atol=1e-15)
    # third row: the anomaly ties the lower normal; the top normal 0.6 is above it
    np.testing.assert_allclose(pauc, [9 / 19, 1.0, 9 / 19], atol=1e-15)


def test_roc_areas_need_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        roc_areas([0, 0, 0], [0.1, 0.2, 0.3])


# ------------------------------------------------------------------------ resampling


def test_stratified_resampling_keeps_group_sizes_and_is_seeded():
    layout = ClipLayout(
        sections=(("fan", "section_00"), ("fan", "section_01")),
        section=np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
        domain=np.array([0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1]),
        label=np.array([0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0]),
    )
    strata = layout.strata()
    # strata (section, domain, label): (0,0,0) x2, (0,0,1), (0,1,0) x2, (1,0,0),
    # (1,0,1) x2, (1,1,0) x2, (1,1,1)
    assert np.bincount(strata).tolist() == [2, 1, 2, 1, 2, 2, 1]
    indices = stratified_indices(strata, 500, seed=4)
    assert indices.shape == (500, 11)
    assert (strata[indices] == strata).all()  # every position keeps its stratum
    for member in (0, 4):  # the 2-clip stratum (0,0,0) draws both of its clips
        assert set(indices[:, member]) == {0, 4}
    assert (indices[:, 1] == 1).all()  # a 1-clip stratum always draws itself
    assert np.array_equal(indices, stratified_indices(strata, 500, seed=4))
    assert not np.array_equal(indices, stratified_indices(strata, 500, seed=5))


@pytest.mark.parametrize("dataset", ["dcase2020", "dcase2021", "dcase2024"])
def test_resampled_headline_at_identity_equals_official(tmp_path, dataset):
    rng = np.random.default_rng(11)
    if dataset == "dcase2020":
        clips = dcase2020_clips(rng, machines=("fan", "pump", "valve"))
    else:
        clips = domain_shift_clips(rng, machines=("fan", "valve", "gearbox"))
    scores = np.round(rng.normal(size=len(clips)) + labels_of(clips), 1)  # with ties
    write_test_set(tmp_path / "dump/dev_test", dataset, clips)
    write_system(tmp_path / "exp/a/best", dataset, "dev_test", clips, scores)
    resampled = get_corpus(dataset).scorer.resampled
    layout, loaded = resampled.load(tmp_path / "dump/dev_test", tmp_path / "exp/a/best/dev_test")
    fast = resampled.headline(layout, loaded[None, :])[0]
    expected = official_headline(dataset, tmp_path / "dump/dev_test",
                                 tmp_path / "exp/a/best/dev_test", tmp_path)
    np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------- bootstrap


def fabricate(root: Path, dataset: str, clips, systems: Dict[str, Sequence[float]]) -> None:
    write_test_set(root / "dump/dev_test", dataset, clips)
    for name, scores in systems.items():
        write_system(root / "exp" / name / "best", dataset, "dev_test", clips, scores)


def test_bootstrap_against_the_enumerated_resampling_distribution(tmp_path, monkeypatch):
    # One machine ID, normals N1 = 0.2 and N2 = 0.6, one anomaly: 0.4 for A, 0.8 for B.
    # A resample draws the two normals from {N1, N2}: (N1, N1) p = 1/4, AUC_A 1, pAUC_A 1;
    # (N1, N2) or (N2, N1) p = 1/2, AUC_A 1/2, pAUC_A 9/19; (N2, N2) p = 1/4, AUC_A 0,
    # pAUC_A 9/19. B is perfect in each: AUC_B = pAUC_B = 1. A - B for AUC takes -1, -1/2
    # and 0 with p = 1/4, 1/2, 1/4, so its 2.5 and 97.5 percentiles over 1000 draws are
    # -1 and 0; for pAUC -10/19 (p = 3/4) and 0 (p = 1/4).
    clips = [("fan", "id_00", "source", "normal")] * 2 + [("fan", "id_00", "source", "anomaly")]
    fabricate(tmp_path, "dcase2020", clips, {"a": [0.2, 0.6, 0.4], "b": [0.2, 0.6, 0.8]})
    monkeypatch.chdir(tmp_path)
    result = compare("exp/a/best", "exp/b/best").sets[0]
    assert result.dset == "dev_test" and result.clips == 3
    auc, pauc, mauc = result.numbers
    assert (auc.a, auc.b, auc.difference) == (0.5, 1.0, -0.5)
    assert auc.ci == pytest.approx((-1.0, 0.0), abs=1e-12)
    assert (pauc.a, pauc.b) == (pytest.approx(9 / 19, abs=1e-12), 1.0)
    assert pauc.ci == pytest.approx((-10 / 19, 0.0), abs=1e-12)
    assert mauc.ci == auc.ci  # one ID per type: mAUC is its AUC
    assert [n.verdict for n in result.numbers] == [NO_DIFFERENCE] * 3
    assert all(n.welch is None for n in result.numbers)


def loop_headline(dataset: str, clips, y, domains, groups, scores) -> List[float]:
    """The headline numbers of one resampled set by the official evaluate (sklearn) of
    DCASE 2020 or 2024."""
    if dataset == "dcase2020":
        result = dcase2020.evaluate({g: (y[m], scores[m]) for g, m in groups.items()})
        return [result.auc, result.pauc, result.mauc]
    result = DCASE2024_EVALUATOR.evaluate({
        g: SectionClips(y[m], domains[m], scores[m], np.zeros(len(m), dtype=int))
        for g, m in groups.items()})
    overall = result.overall
    return [result.official_score, overall.hmean_source.auc, overall.hmean_target.auc,
            overall.hmean.pauc]


def loop_differences(dataset: str, clips, a_scores, b_scores, indices) -> np.ndarray:
    """A - B of the headline numbers per resample, each resampled set scored by the
    official evaluate in a loop: the clips of each (machine, section) sorted by file name,
    as the official loaders order them, and each resample's row of ``indices`` applied to
    that order."""
    names = [clip_name(dataset, c, i)[1] for i, c in enumerate(clips)]
    order = sorted(range(len(clips)), key=lambda i: (clips[i][0], clips[i][1], names[i]))
    y = labels_of(clips)[order]
    domains = np.array([clips[i][2] == "target" for i in order], dtype=int)
    groups: Dict[Tuple[str, str], List[int]] = {}
    for position, i in enumerate(order):
        groups.setdefault(clips[i][:2], []).append(position)
    a, b = np.asarray(a_scores)[order], np.asarray(b_scores)[order]
    return np.array([np.subtract(loop_headline(dataset, clips, y, domains, groups, a[row]),
                                 loop_headline(dataset, clips, y, domains, groups, b[row]))
                     for row in indices])


@pytest.mark.parametrize("dataset,resamples", [("dcase2020", 100), ("dcase2024", 12)])
def test_bootstrap_equals_a_plain_loop_with_sklearn(tmp_path, monkeypatch, dataset,
                                                    resamples):
    rng = np.random.default_rng(3)
    clips = dcase2020_clips(rng) if dataset == "dcase2020" else domain_shift_clips(rng)
    y = labels_of(clips)
    a_scores = np.round(y + rng.normal(size=y.size), 1)
    b_scores = np.round(0.5 * y + rng.normal(size=y.size), 1)
    fabricate(tmp_path, dataset, clips, {"a": a_scores, "b": b_scores})
    monkeypatch.chdir(tmp_path)
    result = compare("exp/a/best", "exp/b/best", resamples=resamples, seed=3).sets[0]
    layout, _ = get_corpus(dataset).scorer.resampled.load(Path("dump/dev_test"),
                                                          Path("exp/a/best/dev_test"))
    indices = stratified_indices(layout.strata(), resamples, 3)
    differences = loop_differences(dataset, clips, a_scores, b_scores, indices)
    low, high = np.percentile(differences, [2.5, 97.5], axis=0)
    for j, number in enumerate(result.numbers):
        assert number.ci == pytest.approx((low[j], high[j]), abs=1e-12)


def test_a_system_against_itself_differs_by_zero(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    clips = domain_shift_clips(rng)
    fabricate(tmp_path, "dcase2024", clips, {"a": rng.normal(size=len(clips))})
    monkeypatch.chdir(tmp_path)
    result = compare("exp/a/best", "exp/a/best").sets[0]
    assert [n.title for n in result.numbers] == ["Official score", "AUC (source)",
                                                 "AUC (target)", "pAUC"]
    for number in result.numbers:
        assert number.difference == 0.0 and number.ci == (0.0, 0.0)
        assert number.verdict == NO_DIFFERENCE


@pytest.mark.parametrize("dataset", ["dcase2020", "dcase2024"])
def test_a_clearly_better_system_wins(tmp_path, monkeypatch, dataset):
    rng = np.random.default_rng(8)
    clips = (dcase2020_clips(rng, normal=20, anomaly=12) if dataset == "dcase2020"
             else domain_shift_clips(rng, normal=(20, 10), anomaly=(8, 8)))
    y = labels_of(clips)
    good = y + 0.1 * rng.normal(size=y.size)
    fabricate(tmp_path, dataset, clips, {"good": good, "random": rng.random(y.size)})
    monkeypatch.chdir(tmp_path)
    better = compare("exp/good/best", "exp/random/best").sets[0]
    assert [n.verdict for n in better.numbers] == ["A better"] * len(better.numbers)
    assert all(n.ci[0] > 0 for n in better.numbers)
    worse = compare("exp/random/best", "exp/good/best").sets[0]
    assert [n.verdict for n in worse.numbers] == ["B better"] * len(worse.numbers)


# ------------------------------------------------------------------------------ Welch


def test_welch_matches_scipy_on_hand_given_values():
    a, b = [0.81, 0.83, 0.86, 0.84], [0.78, 0.80, 0.79]
    result = welch_test(a, b)
    expected = scipy.stats.ttest_ind(a, b, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-12)
    assert result.df == pytest.approx(expected.df, abs=1e-12)
    # by hand: means 0.835 and 0.79, variances 0.00043333 and 0.0001; standard error
    # sqrt(0.00043333/4 + 0.0001/3) = 0.011902; t = 0.045 / 0.011902 = 3.7808; Welch's
    # df = 0.00014167^2 / (0.00010833^2 / 3 + 0.000033333^2 / 2) = 4.492
    assert result.statistic == pytest.approx(3.7808, abs=1e-4)
    assert result.df == pytest.approx(4.492, abs=1e-3)
    assert result.note == ""


@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # scipy's, on the constant side
def test_welch_degenerate_cases():
    assert welch_test([0.8], [0.7, 0.75]) is None
    identical = welch_test([0.8, 0.8], [0.8, 0.8, 0.8])
    assert (identical.statistic, identical.p_value, identical.note) == (None, 1.0,
                                                                        "identical trials")
    constant = welch_test([0.8, 0.8], [0.7, 0.7])
    assert (constant.statistic, constant.p_value) == (None, 0.0)
    one_constant = welch_test([0.8, 0.8, 0.8], [0.7, 0.72, 0.74])
    assert one_constant.p_value == pytest.approx(
        scipy.stats.ttest_ind([0.8, 0.8, 0.8], [0.7, 0.72, 0.74], equal_var=False).pvalue,
        abs=1e-12)


# -------------------------------------------------------------------------------- CLI


def test_cli_on_trial_groups_of_dcase2020(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(21)
    clips = dcase2020_clips(rng, normal=12, anomaly=6)
    y = labels_of(clips)
    systems = {f"x_seed{k}": y + rng.normal(scale=0.6, size=y.size) for k in (1, 2, 3)}
    systems.update({f"y_seed{k}": rng.random(y.size) for k in (1, 2)})
    fabricate(tmp_path, "dcase2020", clips, systems)
    monkeypatch.chdir(tmp_path)
    compare_cli.main(["exp/x_seed*/best", "exp/y_seed*/best", "--resamples", "300",
                      "--out", "cmp.md", "--json", "cmp.json"])
    table = capsys.readouterr().out
    assert Path("cmp.md").read_text() == table
    data = json.loads(Path("cmp.json").read_text())
    assert data["A"]["inference_dirs"] == [f"exp/x_seed{k}/best" for k in (1, 2, 3)]
    assert (data["dataset"], data["resamples"], data["seed"], data["confidence"]) == \
        ("dcase2020", 300, 0, 0.95)
    numbers = data["sets"]["dev_test"]["numbers"]
    assert list(numbers) == ["AUC", "pAUC", "mAUC"]
    assert data["sets"]["dev_test"]["clips"] == len(clips)
    official = {name: official_headline("dcase2020", Path("dump/dev_test"),
                                        Path(f"exp/{name}/best/dev_test"), tmp_path)
                for name in systems}
    for j, title in enumerate(numbers):
        entry = numbers[title]
        a_trials = [official[f"x_seed{k}"][j] for k in (1, 2, 3)]
        b_trials = [official[f"y_seed{k}"][j] for k in (1, 2)]
        assert entry["A_trials"] == pytest.approx(a_trials, abs=1e-12)
        assert entry["B_trials"] == pytest.approx(b_trials, abs=1e-12)
        assert entry["A"] == pytest.approx(np.mean(a_trials), abs=1e-12)
        assert entry["difference"] == pytest.approx(np.mean(a_trials) - np.mean(b_trials),
                                                    abs=1e-12)
        expected = scipy.stats.ttest_ind(a_trials, b_trials, equal_var=False)
        assert entry["welch"]["p_value"] == pytest.approx(expected.pvalue, abs=1e-12)
        assert entry["ci"][0] <= entry["difference"] <= entry["ci"][1]
        assert entry["verdict"] == "A better"
        row = (f"| dev_test | {title} | {100 * entry['A']:.2f} | {100 * entry['B']:.2f} | "
               f"{100 * entry['difference']:.2f} | [{100 * entry['ci'][0]:.2f}, "
               f"{100 * entry['ci'][1]:.2f}] | {entry['welch']['p_value']:.3g} | A better |")
        assert row in table.splitlines()
    assert "- A = `exp/x_seed*/best`: 3 trials" in table
    assert "| Set | Number | A | B | A - B | 95 % CI | Welch p | Verdict |" in table
    show_results.main(["--compare", "exp/x_seed*/best", "exp/y_seed*/best"])
    again = capsys.readouterr().out
    compare_cli.main(["exp/x_seed*/best", "exp/y_seed*/best"])
    assert capsys.readouterr().out == again


def test_cli_on_dcase2024_single_runs(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(24)
    clips = domain_shift_clips(rng, normal=(12, 4), anomaly=(4, 4))
    y = labels_of(clips)
    fabricate(tmp_path, "dcase2024", clips, {"a": y + rng.normal(size=y.size),
                                             "b": y + rng.normal(size=y.size)})
    monkeypatch.chdir(tmp_path)
    compare_cli.main(["exp/a/best", "exp/b/best", "--sets", "dev_test", "--json", "c.json",
                      "--confidence", "0.9", "--seed", "2"])
    table = capsys.readouterr().out
    numbers = json.loads(Path("c.json").read_text())["sets"]["dev_test"]["numbers"]
    assert list(numbers) == ["Official score", "AUC (source)", "AUC (target)", "pAUC"]
    a = official_headline("dcase2024", Path("dump/dev_test"), Path("exp/a/best/dev_test"),
                          tmp_path)
    b = official_headline("dcase2024", Path("dump/dev_test"), Path("exp/b/best/dev_test"),
                          tmp_path)
    for j, entry in enumerate(numbers.values()):
        assert (entry["A"], entry["B"]) == (pytest.approx(a[j], abs=1e-12),
                                            pytest.approx(b[j], abs=1e-12))
        assert entry["welch"] is None and entry["A_trials"] == [entry["A"]]
        assert entry["verdict"] in ("A better", "B better", "no significant difference at 90 %")
        assert (entry["verdict"] == "A better") == (entry["ci"][0] > 0)
    assert "| 90 % CI |" in table.splitlines()[5]
    assert len([line for line in table.splitlines() if line.startswith("| dev_test |")]) == 4


def test_mismatched_clip_sets_are_a_clear_error(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    clips = dcase2020_clips(rng)
    fabricate(tmp_path, "dcase2020", clips, {"a": rng.random(len(clips)),
                                             "b": rng.random(len(clips))})
    utt2score = tmp_path / "exp/b/best/dev_test/utt2score"
    first, rest = utt2score.read_text().split("\n", 1)
    utt2score.write_text(rest)  # B without the first clip
    first = first.split()[0]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as err:
        compare_cli.main(["exp/a/best", "exp/b/best"])
    assert str(err.value) == (
        f"exp/a/best/dev_test and exp/b/best/dev_test scored different test clips "
        f"({len(clips)} and {len(clips) - 1} in utt2score; 1 only in the first, e.g. "
        f"['{first}']; 0 only in the second, e.g. []); a paired comparison needs both "
        "systems scored on the same data dir: re-run stage 4 of one of them on it")


def test_other_bad_input_is_a_clear_error(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    clips = dcase2020_clips(rng)
    fabricate(tmp_path, "dcase2020", clips, {"a": rng.random(len(clips))})
    other = domain_shift_clips(rng)
    write_system(tmp_path / "exp/c/best", "dcase2024", "dev_test", other,
                 rng.random(len(other)))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^exp/a/best is of dcase2020 but exp/c/best of "
                                         r"dcase2024; compare systems of one corpus$"):
        compare("exp/a/best", "exp/c/best")
    with pytest.raises(ValueError, match=r"^'exp/z_seed\*/best' matches no directory"):
        compare("exp/a/best", "exp/z_seed*/best")
    with pytest.raises(ValueError, match=r"^--sets eval_test: exp/a/best has not scored it"):
        compare("exp/a/best", "exp/a/best", sets=["eval_test"])
    with pytest.raises(ValueError, match=r"^--confidence 1.5: give a level between 0 and 1"):
        compare("exp/a/best", "exp/a/best", confidence=1.5)
    with pytest.raises(ValueError, match=r"^--resamples 0: give a positive count"):
        compare("exp/a/best", "exp/a/best", resamples=0)
    (tmp_path / "dump/dev_test/utt2label").unlink()
    with pytest.raises(ValueError, match=r"^no set to compare: exp/a/best scored \['dev_test'\]"):
        compare("exp/a/best", "exp/a/best")


def test_an_ensemble_dir_is_known_by_its_result_json(tmp_path, monkeypatch):
    rng = np.random.default_rng(6)
    clips = domain_shift_clips(rng)
    y = labels_of(clips)
    fabricate(tmp_path, "dcase2024", clips, {"a": y + rng.normal(size=y.size),
                                             "b": y + rng.normal(size=y.size)})
    ensemble = tmp_path / "exp/b/best"
    (ensemble / "inference.yaml").unlink()  # stage 6 writes none
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^exp/b/best: neither inference.yaml \(stage 4\) "
                                         r"nor a scored set"):
        compare("exp/a/best", "exp/b/best")
    official_headline("dcase2024", Path("dump/dev_test"), Path("exp/b/best/dev_test"),
                      ensemble / "dev_test")
    result = compare("exp/a/best", "exp/b/best", resamples=50)
    assert result.dataset == "dcase2024" and result.b.dirs == (Path("exp/b/best"),)
