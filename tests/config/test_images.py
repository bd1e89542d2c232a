"""The image facts table (compose/IMAGES.md) against the compose files and the Dockerfile.

The table holds what each pinned image contains, read from its upstream Dockerfile at the tag. A
healthcheck may only run a program its image has; a bumped tag fails here until its row is re-read.
"""

import re

import pytest

from tests.config.repo_files import REPO, all_services, dockerfile_base_images

IMAGES_MD = REPO / "compose" / "IMAGES.md"
DOCKERFILE = REPO / "Dockerfile"
# The yes/no columns: programs a healthcheck may name (CMD-SHELL and strings need sh).
FLAG_COLUMNS = ("sh", "bash", "wget", "curl")


def image_facts() -> dict[str, dict[str, str]]:
    """image name -> its row (column -> cell), from the first table of IMAGES.md."""
    lines = [line for line in IMAGES_MD.read_text().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        row = dict(zip(header, cells, strict=True))
        rows[row["image"]] = row
    return rows


def programs_of(row: dict[str, str]) -> set[str]:
    """Every program the row says the image has, by name and, for listed paths, by basename."""
    have = {flag for flag in FLAG_COLUMNS if row[flag] == "yes"}
    for program in row["programs"].split(","):
        program = program.strip()
        have |= {program, program.rsplit("/", 1)[-1]}
    return have


def split_image(image: str) -> tuple[str, str]:
    name, _, tag = image.rpartition(":")
    return name, tag


def dockerfile_images() -> list[str]:
    """The image each FROM line starts from (`${ARG}` read as the ARG's default, a stage followed
    back to the image its chain starts from), in the file's order."""
    text = DOCKERFILE.read_text()
    header = text.split("\nFROM ", 1)[0]
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", header, re.MULTILINE))
    froms = [
        (re.sub(r"\$\{(\w+)\}", lambda arg: defaults[arg[1]], image), stage)
        for image, stage in re.findall(r"^FROM (\S+)(?: AS (\S+))?", text, re.MULTILINE)
    ]
    parents = {stage: image for image, stage in froms if stage}

    def origin(image: str) -> str:
        while image in parents:
            image = parents[image]
        return image

    return [origin(image) for image, _ in froms]


def test_the_dockerfile_takes_its_base_images_as_pinned_arguments_and_no_syntax_line() -> None:
    # Stand-ins and mirrors replace a base through --build-arg, never by editing the file; a
    # `# syntax=` line would make BuildKit pull a frontend image before building anything.
    assert set(dockerfile_base_images()) == {"PYTHON_IMAGE", "UV_IMAGE"}
    assert not DOCKERFILE.read_text().startswith("# syntax")
    assert all(":" in image and not image.endswith(":latest") for image in dockerfile_images())


def runtime_image_of_our_builds() -> str:
    """The Dockerfile's last FROM: what every image we build runs on."""
    return dockerfile_images()[-1]


def service_image(service: dict) -> str:
    return runtime_image_of_our_builds() if "build" in service else service["image"]


def test_the_table_has_every_column_the_facts_need() -> None:
    facts = image_facts()
    assert facts
    for name, row in facts.items():
        for column in (*FLAG_COLUMNS, "upstream Dockerfile at the tag", "base", "user"):
            assert row[column], f"{name}: no {column}"
        for flag in FLAG_COLUMNS:
            assert row[flag] in {"yes", "no"}, f"{name}: {flag} is {row[flag]!r}"


@pytest.mark.parametrize(
    "image", sorted({s["image"] for _, _, s in all_services() if "build" not in s})
)
def test_every_pulled_compose_image_is_in_the_table_at_its_tag(image: str) -> None:
    name, tag = split_image(image)
    row = image_facts().get(name)
    assert row is not None, f"{image}: no row in compose/IMAGES.md; read its Dockerfile at {tag}"
    assert row["tag"] == tag, (
        f"{image}: compose/IMAGES.md describes {name}:{row['tag']}; re-read the facts at {tag}"
    )


@pytest.mark.parametrize("image", sorted(set(dockerfile_images())))
def test_every_dockerfile_image_is_in_the_table_at_its_tag(image: str) -> None:
    name, tag = split_image(image)
    row = image_facts().get(name)
    assert row is not None, f"{image}: no row in compose/IMAGES.md"
    assert row["tag"] == tag, f"{image}: compose/IMAGES.md describes {name}:{row['tag']}"


def healthcheck_program(test: list[str] | str) -> str:
    """The program a healthcheck runs: CMD's first word, or the shell for CMD-SHELL and strings."""
    if isinstance(test, str) or test[0] == "CMD-SHELL":
        return "sh"
    assert test[0] == "CMD", test
    return test[1]


def test_every_healthcheck_runs_a_program_its_image_has() -> None:
    facts = image_facts()
    for path, name, service in all_services():
        image = service_image(service)
        row = facts[split_image(image)[0]]
        program = healthcheck_program(service["healthcheck"]["test"])
        assert program in programs_of(row), (
            f"{path.parent.name}:{name} healthcheck runs {program!r}, which {image} does not have "
            f"(it has: {', '.join(sorted(programs_of(row)))})"
        )


def test_a_healthcheck_with_wget_in_a_distroless_image_is_caught() -> None:
    # The bug this table exists for: Loki's image has no wget, so this healthcheck never passes.
    loki = image_facts()["grafana/loki"]
    assert healthcheck_program(["CMD", "wget", "-q", "--spider", "http://x/ready"]) not in (
        programs_of(loki)
    )
    assert healthcheck_program("wget -q http://x/ready") not in programs_of(loki)


def owner_uid(owner: str) -> str:
    return owner.split(":")[0]


def test_named_volumes_are_mounted_where_the_image_owner_is_the_compose_user() -> None:
    # A named volume starts as a copy of the image's directory, owner included; a different
    # compose `user:` could not write to it.
    facts = image_facts()
    numeric = {"postgres": "999", "nobody": "65534"}
    for path, name, service in all_services():
        volumes = [v for v in service.get("volumes", []) if isinstance(v, str)]  # long: a file
        named = [v for v in volumes if not v.startswith(("./", "/"))]
        if not named or "build" in service:
            continue
        row = facts[split_image(service["image"])[0]]
        directory, _, owner = row["data dir"].partition(" ")
        mounted = {volume.split(":")[1] for volume in named}
        assert directory in mounted, f"{path.parent.name}:{name} mounts {mounted}, not {directory}"
        user = str(service["user"]).split(":")[0]
        assert numeric.get(user, user) == owner_uid(owner), (
            f"{path.parent.name}:{name} runs as {service['user']} but {directory} is {owner}"
        )
