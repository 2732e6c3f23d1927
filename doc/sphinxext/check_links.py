"""Check the links between the pages of a built HTML site.

As a Sphinx extension (listed in ``conf.py``), it runs when an HTML build
finishes and logs one warning per broken link, so ``sphinx -W`` fails on
them. As a script, ``python doc/sphinxext/check_links.py doc/_build/html``
prints them and exits with status 1 if there is any.

A link is internal when it has no scheme and no host: ``href``, ``src`` and
``srcset`` values of the built pages (every ``.html`` file outside
``_static/``). Each must name a file of the site and,
when it carries a ``#fragment`` into an HTML page, an ``id`` (or ``<a
name>``) of that page. Links to other sites are not followed.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = {"href", "src"}


class _PageParser(HTMLParser):
    """Collect a page's anchors and the internal URLs it points to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = set()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.anchors.add(value)
            elif name in LINK_ATTRIBUTES:
                self.urls.append(value)
            elif name == "srcset":
                self.urls.extend(
                    part.split()[0] for part in value.split(",") if part.strip()
                )


def _parse(path):
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def find_broken_links(site):
    """Return ``(page, url, reason)`` for each broken internal link of ``site``.

    Parameters
    ----------
    site : path-like
        Root folder of a built HTML site.

    Returns
    -------
    broken : list of tuple
        ``page`` is relative to ``site``; ``reason`` says whether the file or
        the anchor is missing.
    """
    site = Path(site).resolve()
    # Pages of the site, not the HTML templates themes copy into _static/.
    pages = {
        path: _parse(path)
        for path in sorted(site.rglob("*.html"))
        if path.relative_to(site).parts[0] != "_static"
    }
    broken = []
    for page, parsed in pages.items():
        for url in parsed.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("//"):
                continue
            if not parts.path and parts.fragment in ("", "!"):
                continue  # "#": a script's handle, not a link
            target = page if not parts.path else page.parent / unquote(parts.path)
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            target = target.resolve()
            where = page.relative_to(site).as_posix()
            if not target.is_file() or site not in target.parents:
                broken.append((where, url, "no such file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _parse(target)
                if fragment not in pages[target].anchors:
                    broken.append((where, url, "no such anchor"))
    return broken


def _check_build(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for page, url, reason in find_broken_links(app.outdir):
        logger.warning(
            "broken internal link %r in %s (%s)",
            url,
            page,
            reason,
            type="sklearn_kd",
            subtype="internal_link",
        )


def setup(app):
    app.connect("build-finished", _check_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit("usage: python check_links.py BUILT_HTML_DIR")
    broken = find_broken_links(argv[0])
    for page, url, reason in broken:
        print(f"{page}: {url} ({reason})")
    print(f"{len(broken)} broken internal links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
