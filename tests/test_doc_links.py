"""The documentation's internal link check (doc/sphinxext/check_links.py)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "doc" / "sphinxext" / "check_links.py"


def _check_links():
    spec = importlib.util.spec_from_file_location("check_links", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_finds_missing_files_and_anchors_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "logo.png").write_bytes(b"")
    (tmp_path / "_static" / "template.html").write_text('<a href="{{ x }}">')
    (tmp_path / "sub" / "index.html").write_text('<h1 id="top">t</h1><a name="old">')
    (tmp_path / "index.html").write_text(
        '<a href="sub/">ok</a> <a href="sub/index.html#top">ok</a>'
        ' <a href="sub/index.html#old">ok</a> <a href="#here">ok</a>'
        ' <p id="here"></p> <a href="#">handle</a>'
        ' <img src="_static/logo.png" srcset="_static/logo.png 2x">'
        ' <a href="https://example.org/missing.html">external</a>'
        ' <a href="gone.html">broken</a> <a href="sub/index.html#nope">broken</a>'
        ' <img src="_static/missing.png" alt="">'
        ' <a href="../outside.html">broken</a>'
    )
    check_links = _check_links()
    broken = check_links.find_broken_links(tmp_path)
    assert sorted(broken) == [
        ("index.html", "../outside.html", "no such file"),
        ("index.html", "_static/missing.png", "no such file"),
        ("index.html", "gone.html", "no such file"),
        ("index.html", "sub/index.html#nope", "no such anchor"),
    ]
    assert check_links.main([str(tmp_path)]) == 1
    (tmp_path / "index.html").write_text('<a href="sub/index.html#top">ok</a>')
    assert check_links.main([str(tmp_path)]) == 0
