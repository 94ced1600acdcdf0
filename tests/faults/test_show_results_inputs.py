"""Results that ``utils/show_results.sh`` cannot read: the other rows are shown and every
skipped result is listed with its reason."""
import json
import os
import subprocess
from pathlib import Path

from faultkit import fault

REPO = Path(__file__).resolve().parents[2]


def write_result(exp: Path, tag: str, dset: str, text: str) -> Path:
    out = exp / tag / "best" / dset
    out.mkdir(parents=True)
    (out / "result.json").write_text(text)
    return out


@fault("a truncated, empty or missing result.json (utils/show_results.sh)", "handled and logged",
       "the other rows are shown; each skipped result is listed below the tables with the reason")
def test_show_results_lists_what_it_skips(tmp_path):
    exp = tmp_path / "exp"
    good = {"dataset": "dcase2020", "average": {"AUC": 0.9, "pAUC": 0.8, "mAUC": 0.7}}
    write_result(exp, "good", "dev_test", json.dumps(good))
    write_result(exp, "empty", "dev_test", "")
    write_result(exp, "cut", "dev_test", json.dumps(good)[:20])
    unscored = write_result(exp, "unscored", "dev_test", "{}").parent / "eval_test"
    unscored.mkdir()
    (unscored / "utt2score").write_text("clip 0.5\n")  # stage 4 ran, stage 5 did not
    proc = subprocess.run([str(REPO / "utils/show_results.sh"), "exp"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHON": str(REPO / "tools/venv/bin/python")})
    assert proc.returncode == 0, proc.stderr
    assert "| good | best | dev_test | 90.00 | 80.00 | 70.00 |" in proc.stdout
    skipped = proc.stdout.split("Not in the tables:", 1)[1]
    assert "`exp/empty/best/dev_test/result.json`: not valid JSON" in skipped
    assert "`exp/cut/best/dev_test/result.json`: not valid JSON" in skipped
    assert "`exp/unscored/best/dev_test/result.json`: dataset None is no corpus" in skipped
    assert "`exp/unscored/best/eval_test`: no result.json" in skipped
    assert proc.stderr.count("skipped exp/") == 4
