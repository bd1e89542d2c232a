"""The README, the reference page and the tutorials name sessions and commands that exist.

Their ports and URL tables are held to the registry of stages by test_registry.py."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import lab_stages
import pytest

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
    assert chapters == [f"stage-{n}" for n in range(1, 8)], chapters
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


# Every chapter's scaffolding (tutorials/stage-N.md): how long it takes, what a learner should
# see, what to check when they see nothing, a problem they cause and solve (the question first,
# then hints, then the answer, both folded), how to put things back, and where to go next.
CHAPTERS = sorted(REPO.glob("tutorials/stage-*.md"))
# Every chapter in that format: the stages', and the one that takes the lab to a cluster.
FORMATTED = [*CHAPTERS, REPO / "tutorials" / "kubernetes.md"]
QUESTION = re.compile(r'\*"[^"]+"\*')  # *"Some rolls take a second."*
HINTS = "<details><summary>Hints</summary>"
ANSWER = "<details><summary>Answer</summary>"


def section(markdown: str, heading: str) -> str:
    """The text under a `## heading`, up to the next one ('' where there is no such heading)."""
    parts = re.split(rf"^## {re.escape(heading)}\n", markdown, maxsplit=1, flags=re.MULTILINE)
    return parts[1].split("\n## ", 1)[0] if len(parts) == 2 else ""


@pytest.mark.parametrize("chapter", FORMATTED, ids=lambda path: path.name)
def test_every_chapter_has_its_scaffolding(chapter: Path) -> None:
    text = chapter.read_text()
    assert re.search(r"^\*\*Time:\*\* about ", text, re.MULTILINE), f"{chapter.name}: Time"
    assert "**What you should see:**" in section(text, "Run it"), f"{chapter.name}: under Run it"
    for heading in ("If you see nothing", "Put things back"):
        assert section(text, heading).strip(), f"{chapter.name} has no ## {heading}"
    assert "nox -s doctor -- " in section(text, "If you see nothing"), chapter.name


@pytest.mark.parametrize("chapter", FORMATTED, ids=lambda path: path.name)
def test_every_chapter_poses_a_problem_before_its_hints_and_answer(chapter: Path) -> None:
    problem = section(chapter.read_text(), "A problem to diagnose").strip()
    assert QUESTION.match(problem), f"{chapter.name}: the problem starts with its question"
    hints, answer = problem.find(HINTS), problem.find(ANSWER)
    assert 0 < hints < answer, f"{chapter.name}: the question, then Hints, then Answer"
    assert problem.count("<details>") == problem.count("</details>") == 2, chapter.name
    assert problem.rstrip().endswith("</details>"), f"{chapter.name}: the answer is folded"


@pytest.mark.parametrize("chapter", FORMATTED, ids=lambda path: path.name)
def test_every_chapter_ends_with_a_next_link_that_resolves(chapter: Path) -> None:
    text = chapter.read_text()
    last = text.rstrip().rsplit("\n\n", 1)[1]
    assert last.startswith("**Next:** "), f"{chapter.name} ends with {last[:40]!r}"
    targets = re.findall(r"\]\(([^)\s]+)\)", last)
    assert targets, f"{chapter.name}: the Next line links nowhere"
    for target in targets:
        assert (chapter.parent / target).is_file(), f"{chapter.name}: {target} is not there"
    number = int(chapter.stem.removeprefix("stage-")) if chapter in CHAPTERS else 0
    if number and (chapter.parent / f"stage-{number + 1}.md").exists():
        assert targets[0] == f"stage-{number + 1}.md", f"{chapter.name}: next is {targets[0]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_what_you_should_see_has_the_urls_the_session_prints(chapter: Path) -> None:
    # As noxfile.app_urls() has them: each service's label and URL, then the app's links.
    app = lab_stages.app(chapter.stem)
    seen = " ".join(
        section(chapter.read_text(), "Run it").split("**What you should see:**")[1].split()
    )
    rows = [(app.label(service), service.sample) for service in app.services if service.sample]
    for label, url in [*rows, *app.links]:
        assert f"{label} {url}" in seen, f"{chapter.name}: no {label} {url}"


def test_the_readme_gives_each_chapter_the_time_the_chapter_gives() -> None:
    learn = README.read_text().split("## What you will learn", 1)[1].split("\n## ", 1)[0]
    items = re.split(r"^\d\. ", learn, flags=re.MULTILINE)[1:]
    assert len(items) == len(CHAPTERS)
    for item in items:
        chapter = REPO / re.search(r"\]\((tutorials/stage-\d\.md)\)", item).group(1)
        (readme_time,) = re.findall(r"About ([^,.]+)[,.]", " ".join(item.split()))
        time = re.search(r"^\*\*Time:\*\* about ([^,.(]+)", chapter.read_text(), re.MULTILINE)
        assert time.group(1).strip() == readme_time, (chapter.name, readme_time, time.group(1))


CONTAINER_COMMAND = re.compile(
    r"docker (stop|start|restart|pause|unpause|logs|inspect)(?: --format '[^']*')? ([\w.-]+)"
)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_every_container_a_chapter_names_exists_and_one_it_stops_it_starts_again(
    chapter: Path,
) -> None:
    text = chapter.read_text()
    containers = {service.container for app in lab_stages.apps() for service in app.services}
    projects = {app.project for app in lab_stages.apps()} | {
        load_yaml(REPO / "compose/stack/compose.yaml")["name"]
    }
    for project in re.findall(r"docker compose -p ([\w-]+)", text):
        assert project in projects, f"{chapter.name}: no compose project {project}"
    for command in CONTAINER_COMMAND.finditer(text):
        verb, name = command.groups()
        assert name in containers, f"{chapter.name}: docker {verb} {name}: no such container"
        undo = {"stop": "start", "pause": "unpause"}.get(verb)
        if undo:
            later = text[command.end() :]
            assert f"docker {undo} {name}" in later, f"{chapter.name}: {name} is never {undo}ed"


def test_stage3s_problem_makes_a_copy_of_the_lab_dice_whose_loaded_die_is_fair(tmp_path) -> None:
    # The commands as the chapter gives them: sed over the lab's file, then the copy mounted.
    from lab_dice.dice import DICE_FILE, load_dice

    problem = section((REPO / "tutorials/stage-3.md").read_text(), "A problem to diagnose")
    expression, source, copy = re.search(r"sed '([^']+)' \\\n\s+(\S+) > (\S+)", problem).groups()
    assert f"STAGE3_DICE_FILE={copy} uv run nox -s stage-3" in problem
    edited = subprocess.run(
        ["sed", expression, str(REPO / source)], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "dice.json").write_text(edited)
    dice, lab = load_dice(tmp_path / "dice.json"), load_dice(DICE_FILE)
    assert REPO / source == DICE_FILE
    assert dice["loaded"].weights == [1.0] * 6
    assert {**dice, "loaded": lab["loaded"]} == lab, "only the loaded die changes"
