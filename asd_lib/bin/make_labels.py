"""Write utt2class (training-class labels) for data dirs.

Examples::

    python -m asd_lib.bin.make_labels --scheme machine_section data/train
    python -m asd_lib.bin.make_labels --dataset dcase2024 --fit_dir data/train data/train
    python -m asd_lib.bin.make_labels --scheme machine_section_attr --fit_dir data/train \\
        data/train
    python -m asd_lib.bin.make_labels --scheme cluster --fit_dir data/train --num_clusters 8 \\
        data/train
"""
import argparse
import logging

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.corpus.labels import ALL_SCHEMES, CLUSTER_METHODS, ClusterConfig, label_dirs
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

DEFAULTS = ClusterConfig()


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Write <dir>/utt2class and <dir>/label_scheme for every data dir given: "
        "the training sets (a test clip's class is unknown at test time; inference scores it "
        "with the training classes of its section).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("data_dirs", nargs="+", metavar="DIR", help="data directories")
    parser.add_argument("--scheme", choices=ALL_SCHEMES, default=None,
                        help="how a clip's class is formed: machine_section (fan_id_00), machine, "
                        "machine_section_attr (fan_section_00_m-n_X; the domain where attributes "
                        "are hidden), domain (fan_m-n_X / gearbox_source), cluster (log-mel "
                        "statistics clustered per machine type); default: the --dataset's "
                        "scheme, without --dataset machine_section")
    parser.add_argument("--dataset", choices=CORPORA.names(), default=None,
                        help="corpus whose default scheme applies when --scheme is not given")
    parser.add_argument("--fit_dir", action="append", default=[], metavar="DIR",
                        help="training data dir (repeatable): the cluster scheme is fitted on it, "
                        "and a type whose clips there are all noAttribute counts as hidden")
    parser.add_argument("--num_clusters", type=int, default=DEFAULTS.num_clusters,
                        help="cluster scheme: clusters per machine type")
    parser.add_argument("--cluster_method", choices=CLUSTER_METHODS, default=DEFAULTS.method,
                        help="cluster scheme: Gaussian mixture (diagonal) or k-means")
    parser.add_argument("--cluster_seed", type=int, default=DEFAULTS.seed,
                        help="cluster scheme: random state of the clustering")
    parser.add_argument("--allow_pipes", type=str2bool, default=False,
                        help="cluster scheme: run the 'command |' entries of wav.scp in a "
                        "shell and read the wav they write (as stage 2's --allow_pipes); "
                        "false: such an entry is an error")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    cluster = ClusterConfig(args.num_clusters, args.cluster_method, args.cluster_seed)
    scheme = args.scheme or (get_corpus(args.dataset).label_scheme if args.dataset
                             else "machine_section")
    labels = label_dirs(args.data_dirs, scheme, args.fit_dir, cluster, args.allow_pipes)
    for data_dir, classes in labels.items():
        logging.info("%s/utt2class: %d utterances, %d classes", data_dir, len(classes),
                     len(set(classes.values())))


if __name__ == "__main__":
    run_main(main)
