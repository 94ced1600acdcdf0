"""Published numbers in the RESULTS.md tables and the README's reference column name their
table (or the README table they quote); pooled rows carry no mAUC, a per-ID metric; both
published STgram-MFN sources are shown where they differ."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS = sorted(REPO.glob("egs/*/asd1/RESULTS.md"))


def rows_of(text: str):
    """The cells of every Markdown table row of ``text`` (separator rows skipped)."""
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|:- "):
            yield [cell.strip() for cell in line.strip("|").split("|")]


def published_rows(path: Path):
    return [r for r in rows_of(path.read_text()) if r[1:2] and r[1].startswith("published")]


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.parts[-3])
def test_published_rows_name_their_table(path):
    for row in published_rows(path):
        assert re.search(r"\btable\b|README", row[1], re.IGNORECASE), row[:2]


def test_pooled_rows_carry_no_mauc():
    pooled = [r for r in published_rows(REPO / "egs/dcase20/asd1/RESULTS.md") if "pooled" in r[1]]
    assert len(pooled) == 4
    assert all(len(r[-1].split(" / ")) == 2 for r in pooled), pooled


def test_readme_reference_cells_name_their_tables():
    text = (REPO / "README.md").read_text()
    table = text[text.index("DCASE 2020 (`egs/dcase20/asd1`)"):]
    table = table[:table.index("\n\n", table.index("| training config"))]
    for row in rows_of(table):
        cell = row[-1]
        if re.search(r"\d+\.\d+", cell):
            for part in re.split(r"; ", cell):
                assert re.search(r"Table|README|the config", part), part
    stgram = next(r for r in rows_of(table) if r[0] == "`conf/train_stgram_mfn.yaml`")[-1]
    assert "92.36 / 86.34 (CLP-SCF paper, Table 1)" in stgram
    assert "91.73 / 85.86 (OS-SCL paper, Table II)" in stgram
    assert "84.86 (its Table 2)" in stgram and "84.86 (its Table IV)" in stgram

