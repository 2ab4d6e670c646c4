"""docker-compose.yml as `docker compose config` would check it, with no Docker engine: valid
against the Compose Specification's JSON schema, one image built once and run unprivileged,
`init` first, a health check on every service, and every LICENSING_* variable one that
Settings reads, with the required ones demanded of the operator."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from licensing.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
# Vendored from compose-spec/compose-spec (Apache-2.0): see fixtures/compose-spec.NOTICE.
SCHEMA = Path(__file__).parent / "fixtures" / "compose-spec.json"
# What the operator must give: an origin phones reach, and the API tokens' secret (several
# processes share it, so none may make its own).
REQUIRED = {"LICENSING_BASE_URL", "LICENSING_AUTH_SECRET"}
SHELL = {
    "LICENSING_BASE_URL": "https://zzt.example.gov.cn",
    "LICENSING_AUTH_SECRET": "s" * 48,
}
OURS = ("init", "api", "worker", "jobs", "delivery")

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class Unset(Exception):
    """A required variable (`${VAR:?message}`) is not set in the shell."""


def interpolate(value: Any, shell: dict[str, str]) -> Any:
    """Compose's interpolation of the forms the file uses, over every string in it."""
    if isinstance(value, dict):
        return {k: interpolate(v, shell) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, shell) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        given = shell.get(name)
        missing = given is None or (given == "" and op is not None and op.startswith(":"))
        if op is not None and op.endswith("?") and missing:
            raise Unset(f"{name}: {arg}")
        if op is not None and op.endswith("-") and missing:
            return arg
        return given or ""

    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    # As written (compose validates before interpolating) and once interpolated.
    for document in (compose, interpolate(compose, SHELL)):
        errors = sorted(
            jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: e.json_path
        )
        assert [f"{e.json_path}: {e.message}" for e in errors] == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    """The check above can fail: a misspelt condition and an unknown key are refused."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["depends_on"]["init"]["condition"] = "service_finished"
    broken["services"]["worker"]["helthcheck"] = {"test": ["CMD", "true"]}
    paths = {e.json_path for e in jsonschema.Draft7Validator(schema).iter_errors(broken)}
    assert {"$.services.api.depends_on", "$.services.worker"} <= paths


def test_one_image_built_once_and_run_by_an_unprivileged_user(compose: dict[str, Any]) -> None:
    services = compose["services"]
    built = [name for name, s in services.items() if "build" in s]
    assert built == ["init"]
    images = {services[name]["image"] for name in OURS}
    assert len(images) == 1
    for name in set(OURS) - {"init"}:
        assert services[name]["pull_policy"] == "never", name  # the built one, never pulled
    users = [
        line.split(None, 1)[1].strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("USER ")
    ]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for name in OURS:
        assert services[name].get("user") in (None, users[-1]), name


def test_init_runs_first_and_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["init"]["command"] == ["licensing", "init"]
    assert services["init"]["restart"] == "no"
    for name in set(OURS) - {"init"}:
        depends = services[name]["depends_on"]
        assert depends["init"]["condition"] == "service_completed_successfully", name
        assert depends["db"]["condition"] == "service_healthy", name
    for name, service in services.items():
        check = service["healthcheck"]
        if name == "init":
            # A one-shot: its exit status is its health, and the others wait for it.
            assert check == {"disable": True}
            continue
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
    assert any("/readyz" in part for part in services["api"]["healthcheck"]["test"])
    worker = services["worker"]["healthcheck"]["test"]
    assert worker[-4:] == ["licensing", "projections", "status", "--check"]


def test_the_data_folder_and_the_database_are_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in OURS:
        environment = services[name]["environment"]
        mounts = dict(v.split(":", 1)[::-1] for v in services[name]["volumes"])
        assert environment["LICENSING_DATA_DIR"] in mounts, name
        assert mounts[environment["LICENSING_DATA_DIR"]] in compose["volumes"]
    # On PostgreSQL the material files live in the database (licensing_documents): its
    # volume is the document store.
    assert services["db"]["volumes"][0].split(":", 1)[0] in compose["volumes"]
    assert all(v.split(":", 1)[1] != "/documents" for s in OURS for v in services[s]["volumes"])


def _licensing_variables(service: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in service["environment"].items() if k.startswith("LICENSING_")}


def test_every_variable_set_is_one_settings_reads(compose: dict[str, Any]) -> None:
    known = {f"LICENSING_{name.upper()}" for name in Settings.model_fields}
    for name in OURS:
        unknown = set(_licensing_variables(compose["services"][name])) - known
        assert unknown == set(), name


def test_the_required_variables_are_demanded_of_the_operator(compose: dict[str, Any]) -> None:
    for name in OURS:
        variables = _licensing_variables(compose["services"][name])
        for variable in REQUIRED:
            assert f"${{{variable}:?" in variables[variable], (name, variable)
        # No silent localhost in a printed QR code.
        assert "localhost" not in variables["LICENSING_BASE_URL"]
    for missing in REQUIRED:
        with pytest.raises(Unset, match=missing):
            interpolate(compose, {k: v for k, v in SHELL.items() if k != missing})


def test_each_service_environment_makes_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the containers would read it: every value parses, and what a deployment on the
    compose PostgreSQL needs is there."""
    services = interpolate(compose, SHELL)["services"]
    for name in OURS:
        environment = services[name]["environment"]
        for key in [k for k in list(os.environ) if k.startswith("LICENSING_")]:
            monkeypatch.delenv(key)
        for key, value in environment.items():
            if value is not None:  # a bare key: passed through from the shell when set there
                monkeypatch.setenv(key, str(value))
        settings = Settings()
        assert settings.store == "postgres" and settings.postgres_host == "db", name
        assert settings.base_url == SHELL["LICENSING_BASE_URL"]
        assert settings.auth_secret == SHELL["LICENSING_AUTH_SECRET"]
        assert str(settings.data_dir) == "/data"
        assert not settings.cipher_key  # empty: `init` makes one into the data folder
    assert services["api"]["environment"]["LICENSING_PROJECTOR"] == "off"
