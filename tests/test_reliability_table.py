"""README.md's Reliability table is the one the fault suite declares (tests/faults/,
``@fault`` marks), and every fault test declares its row, so the table cannot drift."""
import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "faults"))

from faultkit import FAULTS_DIR, fault_rows, reliability_table  # noqa: E402

BEGIN, END = "<!-- reliability table: python tests/faults/faultkit.py -->", "<!-- end -->"


def test_every_fault_test_declares_its_row():
    unmarked = []
    for path in sorted(FAULTS_DIR.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names = [getattr(d.func, "id", "") for d in node.decorator_list
                         if isinstance(d, ast.Call)]
                if "fault" not in names:
                    unmarked.append(f"{path.name}::{node.name}")
    assert unmarked == []
    assert len(fault_rows()) >= 27


def test_readme_holds_the_table_of_the_fault_suite():
    text = (REPO / "README.md").read_text()
    assert BEGIN in text, "README.md needs its Reliability table (python tests/faults/faultkit.py)"
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert table == reliability_table()
