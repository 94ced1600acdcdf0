"""Config headers cite the papers themselves: every published number names its paper and
table (or the official repository README whose example result table it quotes), sources that disagree are both shown, and author lists are the papers' own."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "egs").glob("*/asd1/conf/**/train_*.yaml"))
FULL = [p for p in CONFIGS if not p.name.endswith((".debug.yaml", ".demo.yaml"))]


def header(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


def name(path: Path) -> str:
    return str(path.relative_to(REPO / "egs"))


PUBLISHED = [p for p in FULL if "Published" in header(p)]


def test_there_are_headers():
    assert len(FULL) >= 15 and all(header(p) for p in FULL)
    assert len(PUBLISHED) >= 14


@pytest.mark.parametrize("path", PUBLISHED, ids=name)
def test_published_numbers_name_paper_and_table(path):
    text = header(path)
    published = text[text.index("Published"):]
    assert "Table" in published or re.search(r"[\w-]+/dcase20\d\d_task2_\w+ README", published), \
        published


@pytest.mark.parametrize("path", CONFIGS, ids=name)
def test_headers_point_to_papers_not_to_notes_outside_the_repository(path):
    text = header(path)
    for phrase in ("METHODS.md", "DESIGN.md", "EVALUATION.md", "shared/", "not available",
                   "unavailable"):
        assert phrase not in text, (phrase, text)


def test_stgram_mfn_authors_and_both_published_results():
    text = header(REPO / "egs/dcase20/asd1/conf/train_stgram_mfn.yaml")
    assert 'Liu, Guan, Zhu, Wang, "Anomalous sound detection using spectral-temporal' in text
    assert "92.36 / 86.34" in text and "91.73 / 85.86" in text


def test_tastgram_shows_both_published_results():
    text = header(REPO / "egs/dcase20/asd1/conf/tuning/train_tastgram_noisy_arcmix.yaml")
    assert "94.65 / 89.31 / 89.78" in text and "94.08 / 89.01" in text
    assert "Table II" in text
