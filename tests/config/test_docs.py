"""The README, the reference page and the tutorials name sessions and commands that exist.

Their ports and URL tables are held to the registry of stages by test_registry.py."""

import re
import subprocess
import sys
import tomllib

from tests.config.repo_files import REPO, load_yaml

README = REPO / "README.md"
REFERENCE = REPO / "docs" / "reference.md"  # what the README leaves out


def nox_sessions() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-k", ""],  # -k "": every session
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    import json

    return {session["session"] for session in json.loads(result.stdout)}


def test_every_nox_session_the_docs_name_exists() -> None:
    sessions = nox_sessions()
    docs = [README, REFERENCE, REPO / "compose/stack/README.md", *REPO.glob("tutorials/*.md")]
    named = {name for doc in docs for name in re.findall(r"nox -s ([\w-]+)", doc.read_text())}
    assert named, "the docs name no session"
    assert named <= sessions, named - sessions


def entry_points() -> set[str]:
    names = set()
    for pyproject in REPO.glob("packages/*/pyproject.toml"):
        names |= tomllib.loads(pyproject.read_text())["project"].get("scripts", {}).keys()
    return names


def test_every_uv_run_command_in_the_docs_is_an_entry_point_or_a_tool() -> None:
    tools = {"nox", "pytest", "ruff", "python", "opentelemetry-instrument"}
    docs = [README, REFERENCE, *REPO.glob("tutorials/*.md"), REPO / "benchmarks/README.md"]
    named = {
        name
        for doc in docs
        if doc.exists()
        for name in re.findall(r"uv run (?:--group \S+ |--\S+ )*([\w-]+)", doc.read_text())
    }
    assert named - tools <= entry_points(), (named - tools) - entry_points()


def test_each_chapter_says_what_every_file_of_its_stage_adds() -> None:
    # A stage package holds only its chapter's lesson: the chapter accounts for each file of it.
    for package in sorted(REPO.glob("packages/stage*/src/stage*")):
        number = package.name.removeprefix("stage")
        chapter = (REPO / f"tutorials/stage-{number}.md").read_text()
        section = chapter.split("## What the code does", 1)[1].split("\n## ", 1)[0]
        files = {path.name for path in package.glob("*.py")} - {"__init__.py"}
        unnamed = {name for name in files if not re.search(rf"[`/]{re.escape(name)}`", section)}
        assert not unnamed, f"tutorials/stage-{number}.md says nothing of {sorted(unnamed)}"


def anchors(markdown: str) -> set[str]:
    """GitHub's ids for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_relative_links_in_the_readme_and_the_reference_page_resolve() -> None:
    for doc in (README, REFERENCE):
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            assert linked.exists(), f"{doc.name}: {target} is not there"
            if anchor:
                assert anchor in anchors(linked.read_text()), f"{doc.name}: no #{anchor} in {path}"


def test_the_readme_starts_with_the_chapters_and_links_the_reference_page() -> None:
    readme = README.read_text()
    learn = readme.split("## What you will learn", 1)[1].split("\n## ", 1)[0]
    chapters = re.findall(r"\]\(tutorials/(stage-\d)\.md\)", learn)
    assert chapters == [f"stage-{n}" for n in range(1, 7)], chapters
    assert "(docs/reference.md)" in readme
    for heading in ("## Sessions", "## Instrument your own service", "## Layout", "## Tests"):
        assert heading in REFERENCE.read_text(), heading


def test_the_stack_sessions_row_names_every_service_it_starts() -> None:
    row = next(
        line for line in (REPO / "docs/reference.md").read_text().splitlines()
        if line.startswith("| `stack` |")
    )  # fmt: skip
    stack = load_yaml(REPO / "compose/stack/compose.yaml")["services"]
    spelled = {"postgres": "PostgreSQL"}
    unnamed = [name for name in stack if spelled.get(name, name).lower() not in row.lower()]
    assert not unnamed, f"docs/reference.md's `stack` row does not name {unnamed}"


def test_ci_runs_the_test_commands_the_readme_gives() -> None:
    # A contributor runs what the README says; CI must run the same, no more and no less.
    section = README.read_text().split("## Run the tests", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    readme = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    ci = [line for line in (REPO / ".ci/run").read_text().splitlines() if line.startswith("uv ")]
    assert readme == ci, f"README: {readme}; .ci/run: {ci}"
