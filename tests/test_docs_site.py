"""The documentation site builds with ``mkdocs build --strict``, and the pages stay true.

The build (about 6 s) fails on any warning: a link to a page or an anchor that does not
exist, a page left out of the navigation, a docstring the API reference cannot read. The
other tests here are cheap checks of what the pages promise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import llm_dispatch

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0 and not warnings, output
    return out


@pytest.mark.timeout(180)
def test_the_site_builds_strict_with_every_page(site: Path) -> None:
    pages = sorted(p.relative_to(DOCS).with_suffix("") for p in DOCS.rglob("*.md"))
    for page in pages:
        built = site / ("index.html" if page.name == "index" else page / "index.html")
        assert built.is_file(), f"docs/{page}.md was not built"


@pytest.mark.timeout(180)
def test_the_api_reference_documents_every_public_name(site: Path) -> None:
    html = (site / "reference" / "llm_dispatch" / "index.html").read_text(encoding="utf-8")
    exported = {name: getattr(llm_dispatch, name) for name in llm_dispatch.__all__}

    def documented(name: str) -> bool:
        if f'id="llm_dispatch.{name}"' in html:
            return True
        # A second name for an exported object: documented once, under the other name, and
        # named on the page.
        others = [o for o, obj in exported.items() if obj is exported[name] and o != name]
        return any(f'id="llm_dispatch.{o}"' in html for o in others) and f"{name}" in html

    missing = [name for name in exported if not name.startswith("_") and not documented(name)]
    assert missing == []
    for module in ("streaming", "embedding", "cache", "testing"):
        page = site / "reference" / module / "index.html"
        assert f'id="llm_dispatch.{module}.' in page.read_text(encoding="utf-8"), module
    # Sphinx roles in docstrings are rendered as code, not shown as written.
    for page in (site / "reference").rglob("*.html"):
        assert not re.search(r":(class|func|meth|mod|data|attr):<code>", page.read_text()), page


#: References to material outside the repository, which a reader of the docs cannot follow.
OUTSIDE = [
    re.compile(r"DESIGN\.md", re.IGNORECASE),
    re.compile(r"\bseeds?\s*#?\s*0\d\d\b", re.IGNORECASE),
    re.compile(r"\bissues?\s*#?\s*\d+", re.IGNORECASE),
    re.compile(r"\.\./shared|/work/"),
    re.compile(r"\bthe design(?:'s| doc)", re.IGNORECASE),
]


def outside_references(text: str) -> list[str]:
    return [m.group(0) for pattern in OUTSIDE for m in pattern.finditer(text)]


def test_the_outside_patterns_catch_what_they_should() -> None:
    for text in (
        "see DESIGN.md",
        "as seed 004 shows",
        "the Seed 003 guide",
        "fixed in issue 13",
        "issue #7",
        "../shared/seeds",
        "the design's section",
    ):
        assert outside_references(text), text
    assert outside_references("options: top_p, seed, top_k; issues a warning") == []


def test_no_page_refers_to_material_outside_the_repository() -> None:
    found = {
        str(path.relative_to(REPO)): hits
        for path in [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
        if (hits := outside_references(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def logged_events() -> set[str]:
    """Every event name the library logs: the first argument of a ``log.<level>(...)`` call,
    or the event argument of a throttled warning."""
    events: set[str] = set()
    for path in (REPO / "llm_dispatch").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        events.update(m.group(1) for m in re.finditer(r"log\.\w+\(\s*\"([a-z_.]+)\"", source))
        events.update(
            m.group(1) for m in re.finditer(r"\(log\.warning if [^)]*\)\(\s*\"([a-z_.]+)\"", source)
        )
        events.update(
            m.group(1)
            for m in re.finditer(r"self\._throttle\(\s*log\.\w+,\s*[^,]+,\s*\"([a-z_.]+)\"", source)
        )
    return events


def test_the_logging_page_lists_every_event_the_library_logs() -> None:
    events = logged_events()
    assert {"stream.start", "circuit.changed", "cache_backend_error"} <= events
    page = (DOCS / "logging.md").read_text(encoding="utf-8")
    table = page.split("## The events", 1)[1]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.MULTILINE))
    assert listed == events
