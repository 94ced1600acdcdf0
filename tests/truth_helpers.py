"""Stand-ins for the official evaluators' ground-truth files in tests that serve a corpus
from a local HTTP server: the fabricated files' MD5 sums and sizes replace the real ones."""
import hashlib
from typing import Dict


def fake_evaluator_files(monkeypatch, evaluator, machines, contents: Dict[str, bytes]
                         ) -> Dict[str, bytes]:
    """Make ``contents`` (``{path in the evaluator repository: bytes}``) the only
    ground-truth files of ``machines``; returns what the mirror serves for them."""
    for path in evaluator.paths(machines):
        if path not in contents:
            monkeypatch.delitem(evaluator.files, path)
    for path, body in contents.items():
        monkeypatch.setitem(evaluator.files, path, (hashlib.md5(body).hexdigest(), len(body)))
    return {f"{evaluator.repo}/{evaluator.commit}/{path}": body for path, body in contents.items()}
