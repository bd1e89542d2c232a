"""Every ```mermaid block in the repository's Markdown renders: mermaid itself (the npm package
pinned in tests/grammars/package.json and its lock, `npm ci --prefix tests/grammars`) draws each
one in headless Chromium, so a diagram GitHub would show as an error fails here first, named by
its file and line with mermaid's message."""

import re
from pathlib import Path

from tests.support.browser import browser_page
from tests.support.paths import REPO
from tests.support.prerequisites import require

MERMAID = REPO / "tests" / "grammars" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
# Folders whose Markdown is not the repository's own: installed packages, virtualenvs, caches.
NOT_OURS = {"node_modules", ".venv", ".git", ".nox", ".pytest_cache", ".ruff_cache"}
BLOCK = re.compile(r"^```mermaid[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)

# Renders each source in turn, in its own element; per source null or the error mermaid threw.
RENDER_ALL = """
async (sources) => {
    mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
    const errors = [];
    for (const [index, source] of sources.entries()) {
        try {
            const {svg} = await mermaid.render(`diagram-${index}`, source);
            errors.push(svg.includes("<svg") ? null : "rendered no <svg>");
        } catch (error) {
            errors.push(String(error && error.message || error));
        }
    }
    return errors;
}
"""


def markdown_files() -> list[Path]:
    return sorted(
        path for path in REPO.rglob("*.md") if not NOT_OURS & set(path.relative_to(REPO).parts[:-1])
    )


def mermaid_blocks(paths: list[Path], root: Path = REPO) -> list[tuple[str, str]]:
    """(file:line of the block's first line, file relative to root; its source) for every
    ```mermaid block."""
    found = []
    for path in paths:
        text = path.read_text()
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 2
            found.append((f"{path.relative_to(root)}:{line}", match.group(1)))
    return found


def render(sources: list[str]) -> list[str | None]:
    """Per source, None when mermaid drew it, else mermaid's error."""
    require(
        MERMAID.exists(),
        "mermaid is not installed: npm ci --prefix tests/grammars",
    )
    with browser_page() as page:
        page.goto("about:blank")
        page.add_script_tag(path=str(MERMAID))
        return page.evaluate(RENDER_ALL, sources)


def test_the_docs_have_their_diagrams() -> None:
    # The architecture and each chapter's request flow are drawn; the render test below needs them.
    where = {spot.split(":")[0] for spot, _ in mermaid_blocks(markdown_files())}
    chapters = {str(path.relative_to(REPO)) for path in REPO.glob("tutorials/stage-*.md")}
    assert {"docs/architecture.md", *chapters} <= where, chapters - where


def unrenderable(blocks: list[tuple[str, str]]) -> list[str]:
    """ "file:line: mermaid's error" for each block mermaid cannot render."""
    errors = render([source for _, source in blocks])
    return [f"{where}: {error}" for (where, _), error in zip(blocks, errors, strict=True) if error]


def test_every_mermaid_diagram_renders() -> None:
    blocks = mermaid_blocks(markdown_files())
    assert blocks, "no ```mermaid block in the repository's Markdown"
    failed = unrenderable(blocks)
    assert not failed, "diagrams mermaid cannot render:\n" + "\n".join(failed)


BROKEN = {
    "an arrow to nothing": "flowchart LR\n    a --> \n",
    "an unclosed label": 'flowchart LR\n    a["unclosed --> b\n',
    "no such diagram type": "flowchartt LR\n    a --> b\n",
}


def test_a_broken_diagram_fails_with_its_file_line_and_error(tmp_path: Path) -> None:
    # What the check above reports: each broken block by file and line, the good one not at all.
    doc = tmp_path / "broken.md"
    doc.write_text(
        "# A page\n\n```mermaid\nflowchart LR\n    a --> b\n```\n"
        + "".join(f"\n{why}:\n\n```mermaid\n{source}```\n" for why, source in BROKEN.items())
    )
    blocks = mermaid_blocks([doc], root=tmp_path)
    assert [source for _, source in blocks][1:] == list(BROKEN.values())
    failed = unrenderable(blocks)
    assert [line.split(": ", 1)[0] for line in failed] == [where for where, _ in blocks[1:]]
    assert all(line.split(": ", 1)[1].strip() for line in failed), failed
    print("\n".join(failed))


def test_every_image_the_markdown_shows_exists() -> None:
    # docs/images/*.png (`nox -s screenshots`) are linked relative to the page that shows them.
    missing = [
        f"{path.relative_to(REPO)}: {target}"
        for path in markdown_files()
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", path.read_text())
        if "://" not in target and not (path.parent / target).exists()
    ]
    assert not missing, missing
