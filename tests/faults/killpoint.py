"""Run an asd_lib entry point and ``SIGKILL`` it just before it renames one output into place.

    python tests/faults/killpoint.py <file name> <module> [args ...]

``os.replace`` onto a file called ``<file name>`` kills the process instead: the
temporary file is complete, the final name still holds the previous output. This is the
last moment a stage can die before its output counts, so after it the previous output
must still be there, and a re-run must finish the job. The kill is a real ``kill -9``
(no handler, no clean-up runs), delivered at a chosen point rather than at a random one.
"""
import os
import runpy
import signal
import sys


def main() -> None:
    target, module, *args = sys.argv[1:]
    real_replace = os.replace

    def replace(src, dst, *rest, **kwargs):
        if os.path.basename(os.fspath(dst)) == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *rest, **kwargs)

    os.replace = replace
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
