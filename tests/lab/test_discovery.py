"""lab/discovery.py: services per SPEC section 2, hostile repositories contained."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudlabmanager.errors import NotFound
from cloudlabmanager.lab.discovery import get_service, is_valid_name, list_services
from tests.lab.labkit import TEST_UBUNTU, add_service, write

BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
instances: [*f]
"""


def test_standard_script_and_docker_base(local_lab: Path) -> None:
    services = {s.name: s for s in list_services(local_lab)}
    assert sorted(services) == ["scripted", "test-ubuntu", "web"]
    ubuntu = services["test-ubuntu"]
    assert ubuntu.flow == "standard"
    assert ubuntu.error is None
    assert ubuntu.instance_file == (local_lab / "services/test-ubuntu/instance.yaml").resolve()
    assert (
        ubuntu.temp_inventory
        == (local_lab / "services/test-ubuntu/outputs/temp_inventory.yaml").resolve()
    )
    [spec] = ubuntu.instances
    assert (spec.label, spec.hostname, spec.plan, spec.region, spec.os, spec.tags) == (
        "testUbuntu",
        "test",
        "vc2-1c-1gb",
        "mel",
        "Ubuntu 24.04 LTS x64",
        ["test-ubuntu"],
    )
    assert services["scripted"].flow == "script"
    assert services["scripted"].instance_file is None


def test_temp_inventory_defaults_to_the_outputs_of_the_service(local_lab: Path) -> None:
    instance = {k: v for k, v in TEST_UBUNTU.items() if k != "temp_inventory"}
    add_service(local_lab, "plain", instance)
    service = get_service(local_lab, "plain")
    assert (
        service.temp_inventory
        == (local_lab / "services/plain/outputs/temp_inventory.yaml").resolve()
    )


def test_directories_that_are_not_services_are_ignored(local_lab: Path) -> None:
    (local_lab / "services" / "empty").mkdir()
    write(local_lab / "services" / "only-main" / "main.yaml", "[]\n")
    write(local_lab / "services" / "README.md", "hello\n")
    assert [s.name for s in list_services(local_lab)] == ["scripted", "test-ubuntu", "web"]
    for name in ("empty", "only-main", "README.md", "docker-base"):
        with pytest.raises(NotFound):
            get_service(local_lab, name)


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "..",
        ".",
        "a..b",
        "-rf",
        ".hidden",
        "a/b",
        "a\\b",
        "web\x00",
        "web\n",
        "w\u0435b",  # a Cyrillic look-alike of web
        "ｗｅｂ",
        "x" * 65,
        "",
        "%2e%2e",
        "services/../../etc",
    ],
)
def test_invalid_names_are_not_found_before_any_file_access(local_lab: Path, name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(NotFound) as caught:
        get_service(local_lab, name)
    assert caught.value.detail == "Service not found"


def test_a_service_directory_linking_out_of_the_lab_is_not_a_service(
    tmp_path: Path, local_lab: Path
) -> None:
    outside = add_service(tmp_path / "outside", "evil")
    os.symlink(outside, local_lab / "services" / "evil")
    assert "evil" not in [s.name for s in list_services(local_lab)]
    with pytest.raises(NotFound):
        get_service(local_lab, "evil")


def test_files_linking_out_of_the_lab_are_never_read(tmp_path: Path, local_lab: Path) -> None:
    secret = write(tmp_path / "secret.yaml", "instances: [{label: stolen}]\n")
    directory = local_lab / "services" / "linky"
    directory.mkdir()
    os.symlink(secret, directory / "instance.yaml")
    write(directory / "main.yaml", "[]\n")
    service = get_service(local_lab, "linky")
    assert service.error == "instance.yaml points outside the lab"
    assert service.instances == []
    assert service.instance_file is None


def test_temp_inventory_outside_the_lab_is_an_error(local_lab: Path) -> None:
    add_service(local_lab, "escape", dict(TEST_UBUNTU, temp_inventory="../../etc/passwd"))
    add_service(local_lab, "absolute", dict(TEST_UBUNTU, temp_inventory="/etc/passwd"))
    for name in ("escape", "absolute"):
        service = get_service(local_lab, name)
        assert service.error == "instance.yaml: temp_inventory must be a path inside the lab"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BOMB, "aliases are expanded"),
        ("instances: !!python/object/apply:os.system ['touch /tmp/clm-pwned']\n", "constructor"),
        ("instances: [\n", "instance.yaml:"),
        ("- just\n- a list\n", "must be a mapping"),
        ("instances: {label: x}\n", "instances must be a list"),
        ("instances: [{hostname: nolabel}]\n", "instances[0].label is missing"),
        ("instances: [{label: x, tags: {a: b}}]\n", "instances[0].tags must be a list"),
        ("instances: [{label: [1, 2]}]\n", "instances[0].label must be text"),
        ("a: &a [*a]\n", "nested deeper than"),
        ("x:\n" + "  " * 0 + "[" * 200 + "]" * 200 + "\n", "instance.yaml"),
    ],
)
def test_a_broken_instance_file_marks_only_that_service(
    local_lab: Path, text: str, reason: str
) -> None:
    directory = local_lab / "services" / "broken"
    write(directory / "instance.yaml", text)
    write(directory / "main.yaml", "[]\n")
    services = {s.name: s for s in list_services(local_lab)}
    assert services["broken"].error is not None
    assert reason in services["broken"].error
    assert services["broken"].instances == []
    assert services["test-ubuntu"].error is None
    assert not Path("/tmp/clm-pwned").exists()


def test_a_huge_instance_file_is_not_read(local_lab: Path) -> None:
    directory = local_lab / "services" / "huge"
    write(directory / "instance.yaml", "instances: []\n" + "#" * (2 * 1024 * 1024))
    write(directory / "main.yaml", "[]\n")
    assert "larger than" in (get_service(local_lab, "huge").error or "")


def test_a_fifo_instance_file_does_not_hang(local_lab: Path) -> None:
    directory = local_lab / "services" / "fifo"
    directory.mkdir()
    os.mkfifo(directory / "instance.yaml")
    write(directory / "deploy.sh", "true\n")
    assert get_service(local_lab, "fifo").instance_file is None


def test_a_lab_without_services_lists_nothing(tmp_path: Path) -> None:
    assert list_services(tmp_path) == []


def test_an_outputs_dir_linking_out_of_the_lab_is_an_error(tmp_path: Path, local_lab: Path) -> None:
    instance = {k: v for k, v in TEST_UBUNTU.items() if k != "temp_inventory"}
    directory = add_service(local_lab, "leaky", instance)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", directory / "outputs")
    service = get_service(local_lab, "leaky")
    assert service.temp_inventory is None
    assert service.error == "outputs/temp_inventory.yaml points outside the lab"
