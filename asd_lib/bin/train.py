"""Train an embedding model with staged losses: ``python -m asd_lib.bin.train --config X.yaml``.

The options are the fields of :class:`asd_lib.train.config.TrainConfig`: ``--config``
sets them from a YAML file, the command line overrides it. Re-running the same command
resumes from ``<exp_dir>/checkpoint.pth`` (:mod:`asd_lib.train.run`); ``--print_config``
prints the resolved configuration, every default included, as YAML and exits.
"""
import argparse

from asd_lib.train.config import TrainConfig, config_yaml, load_train_config
from asd_lib.train.run import train
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging
from asd_lib.utils.options import add_options


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None, help="YAML file whose keys set the options")
    parser.add_argument("--print_config", action="store_true",
                        help="print the resolved configuration as YAML and exit")
    add_options(parser, TrainConfig)
    return parser


def main(cmd=None) -> None:
    args = vars(get_parser().parse_args(cmd))
    path, print_only = args.pop("config"), args.pop("print_config")
    config = load_train_config(path, args)
    if print_only:
        print(config_yaml(config), end="")
        return
    setup_logging(config.verbose)
    train(config)


if __name__ == "__main__":
    run_main(main)
