"""Every Python block of the README and of the user guide runs on its own.

A reader copies one block, not the page: each ```python block is run alone in a fresh Python
process, in an empty folder, with nothing from the blocks before it. The reference is the
reader's own copy-and-paste; a block that needs another's variables, or data only the checkout
has, fails here.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "index.rst",
    *sorted((ROOT / "docs" / "user_guide").glob("*.md")),
]
FENCE = re.compile(r"^```python\n(.*?)^```", flags=re.M | re.S)  # Markdown
CODE_BLOCK = re.compile(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", flags=re.M)  # reST


def python_blocks():
    blocks = []
    for page in PAGES:
        text = page.read_text()
        for pattern in (FENCE, CODE_BLOCK):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                name = f"{page.relative_to(ROOT).as_posix()}:{line}"
                blocks.append(pytest.param(textwrap.dedent(match.group(1)), id=name))
    return blocks


BLOCKS = python_blocks()


def test_the_readme_and_the_guide_have_python_blocks():
    readme = [b for b in BLOCKS if b.id.startswith("README.md")]
    assert readme, "the README shows no Python example"
    assert len(BLOCKS) > len(readme), "the user guide shows no Python example"


@pytest.mark.slow
@pytest.mark.parametrize("source", BLOCKS)
def test_block_runs_on_its_own(source, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(source)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # no relative path into the checkout can work by accident
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
