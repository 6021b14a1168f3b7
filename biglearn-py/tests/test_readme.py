"""The README's Python snippet runs as written."""

import re

from conftest import ROOT


def test_readme_python_snippet(capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python (`biglearn-py`)", 1)[1].split("\n## ", 1)[0]
    snippets = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(snippets) == 1, "the Python section has one python snippet"
    exec(compile(snippets[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "sparfa_coverage" in out
