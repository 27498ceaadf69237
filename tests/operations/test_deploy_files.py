"""The deployment files in the repository stay true to the code they deploy."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from slotwise import cli, config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text()
    return {
        name.lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==([^ \\\n]+)", text, re.M)
    }


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_production_lock_pins_what_the_development_lock_pins():
    production = _pins(ROOT / "requirements.production.lock")
    development = _pins(ROOT / "requirements.lock")

    differing = {
        name: (version, development.get(name))
        for name, version in production.items()
        if development.get(name) != version
    }
    assert differing == {}, "run make lock"


def test_the_production_lock_has_every_dependency_and_no_test_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    production = _pins(ROOT / "requirements.production.lock")

    missing = [r for r in project["dependencies"] if _name(r) not in production]
    dev_only = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert missing == []
    assert dev_only & set(production) == set()


def _commands() -> set[str]:
    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices]
    return set(commands.choices)


def test_every_slotwise_command_in_the_deployment_files_exists():
    known = _commands()
    used = []
    compose = (ROOT / "compose.yaml").read_text()
    services = yaml.safe_load(compose)["services"]
    used += [services[name]["command"][0] for name in ("web", "worker")]
    used += re.findall(r"docker compose run --rm web ([a-z-]+)", compose)
    dockerfile = (ROOT / "Dockerfile").read_text()
    used += re.findall(r'CMD \["([a-z-]+)"', dockerfile)
    used += re.findall(r"slotwise manage", dockerfile) and ["manage"]
    for unit in (DEPLOY / "systemd").glob("*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart=/opt/slotwise/bin/slotwise "):
                used.append(shlex.split(line.split(" ", 1)[1])[0])

    assert set(used) >= {"serve", "worker", "migrate", "invite", "manage"}
    assert set(used) <= known


@pytest.mark.parametrize("path", ["compose.yaml", "deploy/slotwise.env.example", "Dockerfile"])
def test_the_settings_named_in_the_deployment_files_exist(path):
    text = (ROOT / path).read_text()
    named = set(re.findall(r"\b(SLOTWISE_[A-Z_]+?)(?:_FILE)?\b", text))
    source = Path(config.__file__).read_text()

    unknown = {name for name in named if f'"{name}"' not in source}
    assert named
    assert unknown == set()


def test_the_example_environment_is_a_complete_production_configuration():
    values = dict(
        line.split("=", 1)
        for line in (DEPLOY / "slotwise.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    values["SLOTWISE_SECRET_KEY"] = "x" * 64

    deployment = config.load(values)

    assert deployment.production
    assert deployment.secure_proxy_ssl_header == ("HTTP_X_FORWARDED_PROTO", "https")
    assert deployment.log_format == "json"


def test_nginx_passes_what_slotwise_reads():
    nginx = (DEPLOY / "nginx" / "slotwise.conf").read_text()

    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    assert "proxy_set_header X-Request-ID $request_id;" in nginx
    assert "proxy_pass http://slotwise;" in nginx


def test_the_image_runs_as_a_user_other_than_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]

    assert re.search(r"^USER slotwise$", final_stage, re.M)
    assert "useradd --system" in final_stage
    assert "COPY requirements.production.lock" in dockerfile
    assert "--require-hashes" in dockerfile
