"""Synthetic DCASE 2021, 2022, 2023 and 2025 corpora: each year's folders, names, sections,
evaluation list (line endings, full names, the clip behind each evaluation file), hidden
attributes, supplemental recordings, official sizes, determinism, and data preparation."""
import collections
from pathlib import Path

import pytest
import soundfile

from asd_lib.bin import make_synthetic
from asd_lib.corpus import get_corpus, sounds
from asd_lib.corpus.dcase2021 import synthetic as synthetic2021
from asd_lib.corpus.dcase2022 import synthetic as synthetic2022
from asd_lib.corpus.dcase2023 import synthetic as synthetic2023
from asd_lib.corpus.dcase2025 import synthetic as synthetic2025
from asd_lib.corpus.section_layout import LAYOUTS
from asd_lib.corpus.section_synthetic import ClipSpec, write_clip
from asd_lib.utils.fileio import read_kv

SMALL = ["--duration", "0.25", "--test_per_condition", "2"]
CASES = {  # year -> (machines, extra options)
    "dcase2021": ("fan,ToyCar", ["--source_train", "4", "--target_train", "3"]),
    "dcase2022": ("valve", ["--source_train", "4", "--target_train", "2"]),
    "dcase2023": ("fan,ToyDrone", ["--source_train", "4", "--target_train", "2"]),
    "dcase2025": ("slider,CoffeeGrinder,ToyPet", ["--source_train", "4", "--target_train", "2",
                                                   "--supplemental", "3"]),
}


def generate(out, name, seed=0, nj=2):
    machines, extra = CASES[name]
    make_synthetic.main(["--layout", name, "--out", str(out), "--seed", str(seed), "--machines",
                         machines, "--nj", str(nj), "--verbose", "0", *SMALL, *extra])
    return Path(out)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("years")
    return {name: generate(root / name, name) for name in CASES}


SYNTHETIC = {"dcase2021": synthetic2021, "dcase2022": synthetic2022, "dcase2023": synthetic2023,
             "dcase2025": synthetic2025}


def layout_of(name):
    return LAYOUTS[name]


def files(corpus, pattern):
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.glob(pattern))


def test_folders_of_each_year(corpora):
    assert files(corpora["dcase2021"], "*/fan/*") == [
        "dev_data/fan/source_test", "dev_data/fan/target_test", "dev_data/fan/train",
        "eval_data/fan/source_test", "eval_data/fan/target_test", "eval_data/fan/train"]
    assert files(corpora["dcase2022"], "*/valve/*") == [
        "dev_data/valve/attributes_00.csv", "dev_data/valve/attributes_01.csv",
        "dev_data/valve/attributes_02.csv", "dev_data/valve/test", "dev_data/valve/train",
        "eval_data/valve/attributes_03.csv", "eval_data/valve/attributes_04.csv",
        "eval_data/valve/attributes_05.csv", "eval_data/valve/test", "eval_data/valve/train"]
    assert files(corpora["dcase2023"], "*/*/*") == [
        "dev_data/fan/attributes_00.csv", "dev_data/fan/test", "dev_data/fan/train",
        "eval_data/ToyDrone/attributes_00.csv", "eval_data/ToyDrone/test",
        "eval_data/ToyDrone/train",
        "ground_truth/ground_truth_data/ground_truth_ToyDrone_section_00_test.csv",
        "ground_truth/ground_truth_domain/ground_truth_ToyDrone_section_00_test.csv"]
    assert files(corpora["dcase2021"], "ground_truth/*/*") == [
        f"ground_truth/ground_truth_data/ground_truth_{m}_section_{s}_{d}_test.csv"
        for m in ("ToyCar", "fan") for s in ("03", "04", "05") for d in ("source", "target")]
    assert not (corpora["dcase2025"] / "ground_truth").exists()  # its evaluator is unknown
    assert files(corpora["dcase2025"], "*/ToyPet/*") == [
        "eval_data/ToyPet/attributes_00.csv", "eval_data/ToyPet/supplemental",
        "eval_data/ToyPet/test", "eval_data/ToyPet/train"]
    for name, corpus in corpora.items():
        assert (corpus / layout_of(name).eval_list_name).is_file()


@pytest.mark.parametrize("name", list(CASES))
def test_every_name_follows_the_year_grammar(corpora, name):
    layout, corpus = layout_of(name), corpora[name]
    counts = collections.Counter()
    for path in corpus.glob("*/*/*/*.wav"):
        top, machine, folder = path.parts[-4:-1]
        if folder == "supplemental":
            continue
        if top == "eval_data" and folder != "train":
            parsed = layout.parse_eval_name(path.name)
            assert parsed and parsed.section in layout.eval_sections, path
            continue
        clip = layout.parse_clip_name(path.name)
        assert clip is not None and clip.section in layout.sections(top), path
        assert clip.split == ("train" if folder == "train" else "test")
        if folder.endswith("_test"):
            assert folder == f"{clip.domain}_test"
        counts[(machine, clip.section, folder == "train", clip.domain, clip.label)] += 1
    machines, extra = CASES[name]
    train = dict(zip(extra[::2], extra[1::2]))
    for (machine, section, is_train, domain, label), n in counts.items():
        want = int(train[f"--{domain}_train"]) if is_train else 2
        assert n == want, (machine, section, domain, label)
    sections = {(m, s) for m, s, *_ in counts}
    assert len(sections) == len(machines.split(",")) * (
        6 if name in ("dcase2021", "dcase2022") else 1)  # 2021, 2022: sections 00-05


def test_names_of_2021(corpora):
    corpus = corpora["dcase2021"]
    toycar = files(corpus, "dev_data/ToyCar/train/*")
    assert toycar[0] == "dev_data/ToyCar/train/section_00_source_train_normal_0000_A1Spd28VMic1.wav"
    assert files(corpus, "dev_data/fan/source_test/*")[0] == (
        "dev_data/fan/source_test/section_00_source_test_anomaly_0000.wav")
    assert files(corpus, "eval_data/fan/target_test/*")[:2] == [
        "eval_data/fan/target_test/section_03_target_test_0000.wav",
        "eval_data/fan/target_test/section_03_target_test_0001.wav"]
    rows = layout_of("dcase2021").read_eval_list(corpus / "eval_data_list_2021.csv")
    assert all(r.clip.index == int(r.eval_name[-8:-4]) for r in rows)  # full index = eval index
    assert all(r.clip.domain in r.eval_name and r.clip.attr is None for r in rows)


def test_hidden_attributes_and_supplemental_of_2025(corpora):
    corpus = corpora["dcase2025"]
    assert all(p.name.endswith("_noAttribute.wav")
               for p in (corpus / "dev_data/slider").glob("t*/*.wav"))
    rows = layout_of("dcase2025").read_eval_list(corpus / "eval_data_list_2025.csv")
    assert {r.clip.attr for r in rows if r.machine == "ToyPet"} != {"noAttribute"}  # the list shows them
    assert all(r.clip.attr.startswith("mic_imp") for r in rows if r.machine == "CoffeeGrinder")
    kinds = {m: synthetic2025.TYPE_MODELS[m].supplemental for m in ("slider", "CoffeeGrinder",
                                                                    "ToyPet")}
    assert set(kinds.values()) == {"machine", "noise"}
    assert files(corpus, "*/*/supplemental/*") == [
        f"{top}/{m}/supplemental/section_00_{kinds[m]}_000{i}_noAttribute.wav"
        for top, m in (("dev_data", "slider"), ("eval_data", "CoffeeGrinder"),
                       ("eval_data", "ToyPet")) for i in (1, 2, 3)]


@pytest.mark.parametrize("name, line_end", [("dcase2021", b"\r\n"), ("dcase2022", b"\n"),
                                            ("dcase2023", b"\r\n"), ("dcase2025", b"\r\n")])
def test_eval_list_matches_the_files(corpora, tmp_path, name, line_end):
    layout, corpus = layout_of(name), corpora[name]
    raw = (corpus / layout.eval_list_name).read_bytes()
    assert raw.endswith(line_end) and (b"\r" in raw) == (line_end == b"\r\n")
    rows = layout.read_eval_list(corpus / layout.eval_list_name)
    on_disk = {(p.parts[-3], p.name) for p in corpus.glob("eval_data/*/*test/*.wav")}
    assert {(r.machine, r.eval_name) for r in rows} == on_disk
    groups = collections.Counter((r.machine, r.clip.section, r.clip.domain, r.clip.label)
                                 for r in rows)
    assert set(groups.values()) == {2}
    # the audio of an evaluation file is exactly the clip generated under its full name
    row = rows[-1]
    model = SYNTHETIC[name].TYPE_MODELS[row.machine]
    values = next(v for v in model.combinations(row.clip.domain)
                  if row.clip.attr in (None, "noAttribute") or model.suffix(v) == row.clip.attr)
    keyed = name in ("dcase2021", "dcase2022")
    spec = ClipSpec(str(tmp_path / "x.wav"), row.machine, model, "test", row.clip.domain,
                    row.clip.label, row.clip.index, values, 0.25, 0, row.clip.section, keyed)
    write_clip(spec)
    folder = f"{row.clip.domain}_test" if name == "dcase2021" else "test"
    assert (tmp_path / "x.wav").read_bytes() == (
        corpus / "eval_data" / row.machine / folder / row.eval_name).read_bytes()


@pytest.mark.parametrize("name", list(CASES))
def test_data_preparation_takes_every_clip(corpora, tmp_path, name):
    corpus = get_corpus(name)
    options = {option: True for option in corpus.prepare_options}
    counts = corpus.prepare_data(corpora[name], tmp_path / "data", True, None, **options)
    prepared = {path for set_name in counts
                for path in read_kv(tmp_path / "data" / set_name / "wav.scp").values()}
    assert len(prepared) == len(list(corpora[name].glob("*/*/*/*.wav")))  # some in two sets
    assert set(read_kv(tmp_path / "data/eval_test/utt2label").values()) == {"normal", "anomaly"}


def test_sections_are_different_machines_and_runs_are_reproducible(tmp_path):
    a = generate(tmp_path / "a", "dcase2021", seed=3, nj=1)
    b = generate(tmp_path / "b", "dcase2021", seed=3, nj=2)
    tree = {p.relative_to(a).as_posix(): p.read_bytes() for p in a.rglob("*.wav")}
    assert tree == {p.relative_to(b).as_posix(): p.read_bytes() for p in b.rglob("*.wav")}
    first = "dev_data/fan/train/section_0{}_source_train_normal_0000_strength_1.wav"
    assert tree[first.format(0)] != tree[first.format(1)]
    info = soundfile.info(str(a / first.format(0)))
    assert (info.samplerate, info.frames) == (sounds.SR, 4000)


def test_official_sizes_and_size_checks(tmp_path):
    assert synthetic2021.OFFICIAL_SIZES == synthetic2021.Dcase2021Sizes(10.0, 1000, 3, 100)
    assert get_corpus("dcase2022").synthetic.official.target_train == 10
    assert get_corpus("dcase2025").synthetic.official.supplemental == 100
    with pytest.raises(ValueError, match="--source_train 1 is too small for fan"):
        make_synthetic.main(["--layout", "dcase2021", "--out", str(tmp_path / "x"),
                             "--machines", "fan", "--source_train", "1"])
    with pytest.raises(ValueError, match="unknown DCASE 2023 machine type"):
        make_synthetic.main(["--layout", "dcase2023", "--out", str(tmp_path / "y"),
                             "--machines", "pump"])
