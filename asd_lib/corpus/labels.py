"""Training-class labelers: data dirs -> ``utt2class``.

Self-supervised ASD systems train a classifier on auxiliary labels of normal clips and
score anomalies by how badly a test clip fits its class. The schemes:

* ``machine_section``: machine type x machine ID / section, e.g. ``fan_id_00``: the 41
  DCASE 2020 classes (Giri et al. 2020; STgram-MFN, Liu et al. 2022).
* ``machine``: the machine type alone.
* ``machine_section_attr``: machine type x section x attribute string
  (``fan_section_00_m-n_X``), the usual DCASE 2022-2024 classes. Where the attributes are
  hidden (``noAttribute``) the domain stands in: ``gearbox_section_00_source``.
* ``domain``: System-2 of Tian et al. (DCASE 2024 Task 2 technical report): attribute labels
  where they exist, source / target where they are hidden (``fan_m-n_X``,
  ``gearbox_target``). On a one-section corpus (2023, 2024) it splits the clips exactly as
  ``machine_section_attr`` does.
* ``cluster``: System-1 of Tian et al.: per machine type, the per-band mean and standard
  deviation of each clip's log-mel spectrogram, standardised and clustered (GMM or
  k-means, seeded); the cluster index is the pseudo-label (``fan_cluster03``).

A type's attributes count as hidden when every one of its clips in the *fit* dirs (the
training set; without fit dirs, the dirs being labelled) is ``noAttribute``; then the domain
stands in for all its clips, test clips included (BrushlessMotor hides its attributes in
training but not in the eval list, so always pass the training set as fit dir). The
``cluster`` scheme is fitted on the fit dirs only and assigns every dir with that model.
Only training sets need classes: a test clip's class is not known at test time (its domain
and attributes are hidden in the official evaluation names), and inference scores it with
the training classes of its section instead. Next to ``utt2class`` a one-line
``label_scheme`` file names the scheme and its options; stage 3 records both in the
experiment, which keeps using them whatever a later run writes here.
"""
import dataclasses
import logging
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Sequence, Tuple

import numpy as np

from asd_lib.corpus.common import NO_ATTRIBUTE
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv

CLUSTER_METHODS = ("gmm", "kmeans")
logger = logging.getLogger(__name__)


class Scheme(NamedTuple):
    needs: Tuple[str, ...]  # data files read
    # (values by file name, attributes hidden) -> class
    label: Callable[[Dict[str, str], bool], str]


def _attr_or_domain(v: Dict[str, str], hidden: bool) -> str:
    """The attribute string, or the domain where the attributes are hidden."""
    return v["utt2domain"] if hidden or v["utt2attr"] == NO_ATTRIBUTE else v["utt2attr"]


SCHEMES: Dict[str, Scheme] = {
    "machine_section": Scheme(
        ("utt2machine", "utt2section"), lambda v, hidden: f"{v['utt2machine']}_{v['utt2section']}"
    ),
    "machine": Scheme(("utt2machine",), lambda v, hidden: v["utt2machine"]),
    "machine_section_attr": Scheme(
        ("utt2machine", "utt2section", "utt2domain", "utt2attr"),
        lambda v, hidden: f"{v['utt2machine']}_{v['utt2section']}_{_attr_or_domain(v, hidden)}",
    ),
    "domain": Scheme(
        ("utt2machine", "utt2domain", "utt2attr"),
        lambda v, hidden: f"{v['utt2machine']}_{_attr_or_domain(v, hidden)}",
    ),
}
FITTED_SCHEMES = ("cluster",)
ALL_SCHEMES = tuple(SCHEMES) + FITTED_SCHEMES


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """Options of the ``cluster`` scheme."""

    num_clusters: int = 8  # per machine type (at most its number of training clips)
    method: str = "gmm"  # gmm (diagonal covariances) or kmeans
    seed: int = 0
    n_mels: int = 64


def _read_tables(data_dir: Path, needs: Sequence[str], scheme: str) -> Dict[str, Dict[str, str]]:
    tables = {}
    for name in needs:
        if not (data_dir / name).is_file():
            raise ValueError(f"{data_dir / name}: missing, needed by scheme {scheme!r}; "
                             "run data preparation (stage 1) first")
        tables[name] = read_kv(data_dir / name)
    for name in needs[1:]:
        if set(tables[name]) != set(tables[needs[0]]):
            raise ValueError(f"{data_dir / name}: utterances differ from {data_dir / needs[0]}; "
                             "re-run data preparation")
    return tables


def _hidden_types(fit_tables: List[Dict[str, Dict[str, str]]]) -> frozenset:
    """Machine types all of whose fit clips are ``noAttribute``."""
    attrs: Dict[str, set] = {}
    for tables in fit_tables:
        for utt, machine in tables["utt2machine"].items():
            attrs.setdefault(machine, set()).add(tables["utt2attr"][utt])
    return frozenset(m for m, values in attrs.items() if values == {NO_ATTRIBUTE})


def _rule_labels(data_dirs: List[Path], fit_dirs: List[Path],
                 scheme: str) -> Dict[Path, Dict[str, str]]:
    needs, label = SCHEMES[scheme]
    tables = {d: _read_tables(d, needs, scheme) for d in dict.fromkeys(data_dirs + fit_dirs)}
    hidden = frozenset()
    if "utt2attr" in needs:
        hidden = _hidden_types([tables[d] for d in fit_dirs or data_dirs])
    out = {}
    for d in data_dirs + fit_dirs:
        t = tables[d]
        out[d] = {utt: label({n: t[n][utt] for n in needs}, machine in hidden)
                  for utt, machine in t["utt2machine"].items()}
    return out


# --------------------------------------------------------------------------- clustering
def log_mel_statistics(wav_entry: str, n_mels: int = 64, pipe: bool = False) -> np.ndarray:
    """Per-band mean and standard deviation over time of a clip's log-mel spectrogram
    (16 kHz, 1024-point Hann frames, hop 512, HTK mel bands up to 8 kHz, 10 log10 power):
    a ``2 * n_mels`` vector. ``wav_entry`` is a path, or with ``pipe`` a ``wav.scp``
    command entry (``cmd |``). A clip with samples beyond full scale is read clipped (and
    logged): stage 2 decides whether it may be used (``--max_clipped``)."""
    import torchaudio

    from asd_lib.data.audio import read_wav

    x = read_wav(wav_entry, 16000, max_clipped=1.0, pipe=pipe).astype(np.float64) / 32768.0
    if x.size < 1024:
        x = np.pad(x, (0, 1024 - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * np.hanning(1024)
    fbank = torchaudio.functional.melscale_fbanks(513, 0.0, 8000.0, n_mels, 16000).numpy()
    log_mel = 10 * np.log10(np.maximum(np.abs(np.fft.rfft(frames)) ** 2 @ fbank, 1e-10))
    return np.concatenate([log_mel.mean(0), log_mel.std(0)])


class MachineClusters:
    """Standardiser + clustering model of one machine type, with clusters renumbered in
    the order they first occur among the (C-sorted) training utterances."""

    def __init__(self, features: np.ndarray, config: ClusterConfig):
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture
        from sklearn.preprocessing import StandardScaler

        k = min(config.num_clusters, len(features))
        self.scaler = StandardScaler().fit(features)
        z = self.scaler.transform(features)
        if config.method == "gmm":
            self.model = GaussianMixture(k, covariance_type="diag", reg_covar=1e-3, n_init=3,
                                         random_state=config.seed).fit(z)
        else:
            self.model = KMeans(k, n_init=10, random_state=config.seed).fit(z)
        first_seen = list(dict.fromkeys(self.model.predict(z)))
        unused = [c for c in range(k) if c not in first_seen]
        self.order = {c: i for i, c in enumerate(first_seen + unused)}

    def assign(self, features: np.ndarray) -> List[int]:
        return [self.order[c] for c in self.model.predict(self.scaler.transform(features))]


def _cluster_labels(data_dirs: List[Path], fit_dirs: List[Path], config: ClusterConfig,
                    allow_pipes: bool) -> Dict[Path, Dict[str, str]]:
    if not fit_dirs:
        raise ValueError("scheme 'cluster' is fitted on the training set: pass --fit_dir "
                         "data/train (the clusters of every dir come from that model)")
    if config.method not in CLUSTER_METHODS:
        raise ValueError(f"unknown cluster method {config.method!r}; choose {CLUSTER_METHODS}")
    if config.num_clusters < 1:
        raise ValueError(f"--num_clusters must be at least 1, got {config.num_clusters}")
    dirs = list(dict.fromkeys(fit_dirs + data_dirs))
    from asd_lib.data.audio import wav_scp_sources

    tables = {d: _read_tables(d, ("wav.scp", "utt2machine"), "cluster") for d in dirs}
    sources = {d: wav_scp_sources(d / "wav.scp", allow_pipes) for d in dirs}
    cache: Dict[Tuple[str, bool], np.ndarray] = {}

    def features(d: Path, utts: List[str]) -> np.ndarray:
        rows = []
        for utt in utts:
            source = sources[d][utt]
            if source not in cache:
                cache[source] = log_mel_statistics(source.value, config.n_mels, source.pipe)
            rows.append(cache[source])
        return np.stack(rows)

    by_machine: Dict[str, List[Tuple[Path, str]]] = {}
    for d in fit_dirs:
        for utt, machine in tables[d]["utt2machine"].items():
            by_machine.setdefault(machine, []).append((d, utt))
    models = {}
    for machine, items in sorted(by_machine.items()):
        items.sort(key=lambda item: item[1].encode("utf-8"))
        feats = np.concatenate([features(d, [u]) for d, u in items])
        models[machine] = MachineClusters(feats, config)
        logger.info("%s: %d clusters fitted on %d clips", machine,
                    len(models[machine].order), len(items))
    out = {}
    for d in dirs:
        machines = tables[d]["utt2machine"]
        unknown = sorted(set(machines.values()) - set(models))
        if unknown:
            raise ValueError(f"{d}: machine type(s) {unknown} have no clips in the fit dir(s) "
                             f"{', '.join(map(str, fit_dirs))}; fit on a training set "
                             "covering them")
        utts = list(machines)
        out[d] = {}
        for machine in sorted(set(machines.values())):
            mine = [u for u in utts if machines[u] == machine]
            for utt, c in zip(mine, models[machine].assign(features(d, mine))):
                out[d][utt] = f"{machine}_cluster{c:02d}"
    return out


# --------------------------------------------------------------------------- entry points
def label_dirs(data_dirs: Sequence, scheme: str, fit_dirs: Sequence = (),
               cluster: ClusterConfig = ClusterConfig(),
               allow_pipes: bool = False) -> Dict[str, Dict[str, str]]:
    """Write ``<dir>/utt2class`` for every data dir with ``scheme``; returns
    ``{dir: {utt: class}}``. ``fit_dirs`` (the training set) decide which types hide their
    attributes and are the data the ``cluster`` scheme is fitted on. The ``cluster`` scheme
    reads the audio of ``wav.scp``, whose ``cmd |`` entries it runs only with
    ``allow_pipes``, as stage 2 does (:func:`asd_lib.data.audio.wav_scp_sources`); the
    other schemes read no audio. Nothing is written unless every dir can be labelled."""
    if scheme not in ALL_SCHEMES:
        raise ValueError(f"unknown label scheme {scheme!r}; choose one of: "
                         f"{', '.join(ALL_SCHEMES)}")
    dirs, fits = [Path(d) for d in data_dirs], [Path(d) for d in fit_dirs]
    if scheme == "cluster":
        labels = _cluster_labels(dirs, fits, cluster, allow_pipes)
    else:
        labels = _rule_labels(dirs, fits, scheme)
    description = scheme_description(scheme, cluster)
    for d in dirs:
        write_kv(d / "utt2class", labels[d].items())
        with atomic_write(d / "label_scheme") as f:
            f.write(description + "\n")
    return {str(d): labels[d] for d in dirs}


def scheme_description(scheme: str, cluster: ClusterConfig = ClusterConfig()) -> str:
    """The scheme and its options in one line, e.g. ``cluster num_clusters=8 method=gmm
    seed=0 n_mels=64``."""
    if scheme != "cluster":
        return scheme
    return "cluster " + " ".join(f"{k}={v}" for k, v in dataclasses.asdict(cluster).items())


def make_labels(data_dir, scheme: str, fit_dirs: Sequence = (),
                cluster: ClusterConfig = ClusterConfig(),
                allow_pipes: bool = False) -> Dict[str, str]:
    """Write ``data_dir/utt2class`` for ``scheme``; returns ``{utt: class}``."""
    return label_dirs([data_dir], scheme, fit_dirs, cluster, allow_pipes)[str(Path(data_dir))]
