"""Every relative link and #anchor in README.md and docs/ resolves, and the README stays a short front door."""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PAGES = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
README_MAX_LINES = 150
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`[^`]*`")
LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks: a `# comment` in a bash block is not a heading, nor is a link in one."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub (and GitLab) gives a heading: its text, lowercased, punctuation dropped, spaces as hyphens."""
    text = LINK.sub(lambda match: match["text"], heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in a page; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        if match := HEADING.match(line):
            slug = github_slug(match["text"])
            found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return found


def relative_links(page: Path) -> list[str]:
    """The targets of the page's links that point inside the project (not a URL), code spans left out."""
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            if not EXTERNAL.match(match["target"]):
                targets.append(match["target"])
    return targets


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(PROJECT).as_posix())
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading in {linked.name} has the anchor #{anchor}")
    assert broken == [], f"{page.name} links to what does not exist: {broken}"


def test_links_in_code_are_ignored_and_a_missing_anchor_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# A `code` title: with punctuation\n\n```bash\n# not a heading [x](nowhere.md)\n```\n\n"
        "## Twice\n\n## Twice\n\nSee [here](#a-code-title-with-punctuation), [again](#twice-1), `[no](code.md)`, "
        "[out](https://example.com) and [gone](#missing).\n",
        encoding="utf-8",
    )
    assert anchors(page) == {"a-code-title-with-punctuation", "twice", "twice-1"}
    assert relative_links(page) == ["#a-code-title-with-punctuation", "#twice-1", "#missing"]


def test_readme_is_a_short_front_door() -> None:
    lines = len((PROJECT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines: move the depth to a page of docs/"
