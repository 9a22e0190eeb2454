"""The deployment files: docker-compose.yml (validated by docker-compose itself), the
Dockerfile, the gateway's nginx.conf and the Kubernetes manifests. No Docker engine and
no cluster are needed; nothing here reaches beyond this machine."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from recoup import services as recoup_services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SERVICES = ("credit", "ledger", "reconciliation", "collections", "webhooks")
DATABASE_URL_VARS = {f"RECOUP_DATABASE_URL_{s.upper()}" for s in SERVICES}
DAILY_JOBS = {d.name: [j.name for j in d.jobs] for d in recoup_services.load()}
TEST_KEYS = "deploy-test-secret=admin"
TEST_LINK_SECRET = "deploy-test-link-secret"


# --- docker-compose ------------------------------------------------------------------

def _require_docker_compose() -> str:
    """The docker-compose executable; skips saying why when it is missing, or fails
    under CI=true (as tests/support/servers.py does for servers)."""
    path = shutil.which("docker-compose")
    if path:
        return path
    message = ("docker-compose is not installed, so docker-compose.yml cannot be validated; "
               "install it with: make tools (apt-get install docker-compose)")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def _compose_config(api_keys: str | None, link_secret: str | None = TEST_LINK_SECRET
                    ) -> subprocess.CompletedProcess[str]:
    executable = _require_docker_compose()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RECOUP_", "COMPOSE_", "DOCKER_"))}
    if api_keys is not None:
        env["RECOUP_API_KEYS"] = api_keys
    if link_secret is not None:
        env["RECOUP_RECONCILIATION_LINK_SECRET"] = link_secret
    return subprocess.run(
        [executable, "-f", "docker-compose.yml", "config"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    result = _compose_config(TEST_KEYS)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict) and "services" in config, result.stdout
    return config


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    return shlex.split(command) if isinstance(command, str) else list(command or [])


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def test_compose_has_every_service(compose: dict[str, Any]) -> None:
    expected = {*SERVICES, "postgres", "rabbitmq", "migrate", "gateway"}
    assert expected <= set(compose["services"]), sorted(compose["services"])


@pytest.mark.parametrize("name", SERVICES)
def test_compose_recoup_service(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    depends = service["depends_on"]
    assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["rabbitmq"]["condition"] == "service_healthy"

    healthcheck = service["healthcheck"]
    test = healthcheck["test"]
    assert test and test[0] not in ("NONE",) and not healthcheck.get("disable")
    assert "/healthz" in " ".join(test), "the compose healthcheck is liveness (/healthz)"

    command = _command(service)
    assert command[:2] == ["serve", name], command
    # One replica each: those with daily jobs run them.
    assert ("--schedule" in command) == bool(DAILY_JOBS.get(name)), command

    env = _environment(service)
    assert env["RECOUP_ENVIRONMENT"] == "production"
    assert env["RECOUP_API_KEYS"] == TEST_KEYS
    amqp_url = env["RECOUP_AMQP_URL"]
    assert amqp_url.startswith("amqp://") and "@rabbitmq:5672" in amqp_url
    own = f"RECOUP_DATABASE_URL_{name.upper()}"
    assert DATABASE_URL_VARS & set(env) == {own}, f"{name} must see only its own database"
    assert env[own].startswith("postgresql+asyncpg://")
    assert env[own].endswith(f"@postgres:5432/recoup_{name}")


def test_compose_migrate_runs_once_on_every_database(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert _command(migrate) == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = _environment(migrate)
    assert set(env) >= DATABASE_URL_VARS
    for name in SERVICES:
        assert env[f"RECOUP_DATABASE_URL_{name.upper()}"].endswith(f"/recoup_{name}")
    # The same image as the apps.
    assert migrate["image"] == compose["services"]["credit"]["image"]


def test_compose_infrastructure(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres, rabbitmq, gateway = services["postgres"], services["rabbitmq"], services["gateway"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(str(v).split(":")[1] == "/docker-entrypoint-initdb.d" for v in postgres["volumes"])
    assert rabbitmq["image"].startswith("rabbitmq:3.13-management")
    assert "rabbitmq-diagnostics -q ping" in " ".join(rabbitmq["healthcheck"]["test"])
    assert gateway["image"].startswith("nginx:")
    nginx_conf = str(DEPLOY / "gateway" / "nginx.conf")
    assert any(str(v).startswith(f"{nginx_conf}:/etc/nginx/") for v in gateway["volumes"])
    published = [p.get("target") if isinstance(p, dict) else int(str(p).split(":")[-1])
                 for p in gateway["ports"]]
    assert 8000 in published
    # Named volumes keep the data across container re-creation.
    assert {"postgres-data", "rabbitmq-data"} <= set(compose["volumes"])
    assert any(str(v).startswith("postgres-data:") for v in postgres["volumes"])
    assert any(str(v).startswith("rabbitmq-data:") for v in rabbitmq["volumes"])


def test_compose_refuses_to_run_without_api_keys() -> None:
    result = _compose_config(None)
    assert result.returncode != 0, "the ${RECOUP_API_KEYS:?...} guard did not trip"
    assert "RECOUP_API_KEYS" in result.stderr


def test_compose_gives_reconciliation_its_link_secret(compose: dict[str, Any]) -> None:
    """Production refuses to start reconciliation without it: compose must not start at all."""
    env = _environment(compose["services"]["reconciliation"])
    assert env["RECOUP_RECONCILIATION_LINK_SECRET"] == TEST_LINK_SECRET
    assert env["RECOUP_RECONCILIATION_PUBLIC_BASE_URL"].startswith("http")
    result = _compose_config(TEST_KEYS, link_secret=None)
    assert result.returncode != 0 and "RECOUP_RECONCILIATION_LINK_SECRET" in result.stderr


def test_postgres_init_creates_every_database() -> None:
    sql = (DEPLOY / "postgres" / "init-databases.sql").read_text()
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", sql, re.IGNORECASE))
    assert created == {f"recoup_{name}" for name in SERVICES}


# --- Dockerfile ----------------------------------------------------------------------

def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends in a continuation line"
    return instructions


def _copies(instructions: list[tuple[str, str]]) -> list[tuple[int, list[str]]]:
    copies = []
    for index, (keyword, rest) in enumerate(instructions):
        if keyword in ("COPY", "ADD"):
            words = [w for w in shlex.split(rest) if not w.startswith("--")]
            copies.append((index, words[:-1]))
    return copies


def test_dockerfile_installs_the_locked_dependencies_before_the_code() -> None:
    instructions = _dockerfile()
    keywords = [k for k, _ in instructions]
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11-slim")
    runs = [(i, rest) for i, (k, rest) in enumerate(instructions) if k == "RUN"]
    assert any(re.search(r"pip install\b.*\buv\b", rest) for _, rest in runs)
    syncs = [i for i, rest in runs
             if "uv sync" in rest and "--frozen" in rest and "--no-dev" in rest]
    assert syncs, "no `uv sync --frozen --no-dev`"
    every_sync = [i for i, rest in runs if "uv sync" in rest]
    assert every_sync == syncs, "every uv sync must use the lock (--frozen) without dev tools"

    copies = _copies(instructions)
    lock_copy = next(i for i, sources in copies if "uv.lock" in sources)
    assert "pyproject.toml" in next(s for i, s in copies if i == lock_copy)
    code_copies = [i for i, sources in copies
                   if any(s.rstrip("/") in ("recoup", "shared", "services") for s in sources)]
    assert {s.rstrip("/") for i, src in copies for s in src} >= {
        "recoup", "shared", "services", "README.md", "pyproject.toml", "uv.lock"}
    # Layer caching: the dependencies are installed between the lock and the code.
    assert lock_copy < syncs[0] < min(code_copies), keywords


def test_dockerfile_runs_as_non_root_with_entrypoint_and_healthcheck() -> None:
    instructions = _dockerfile()
    users = [rest for k, rest in instructions if k == "USER"]
    assert users, "no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    # The user is set after the last RUN (builds may need root; the app must not).
    last_user = max(i for i, (k, _) in enumerate(instructions) if k == "USER")
    last_run = max(i for i, (k, _) in enumerate(instructions) if k == "RUN")
    assert last_user > last_run

    entrypoints = [rest for k, rest in instructions if k == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == ["recoup"]
    cmds = [rest for k, rest in instructions if k == "CMD"]
    if cmds:  # no default service: at most a help text
        assert json.loads(cmds[-1]) == ["--help"]

    healthchecks = [rest for k, rest in instructions if k == "HEALTHCHECK"]
    assert healthchecks and "/healthz" in healthchecks[-1]
    # Exec form, valid JSON (else Docker would quietly run it through a shell).
    probe = json.loads(healthchecks[-1].split(" CMD ", 1)[1])
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "<healthcheck>", "exec")
    assert "curl" not in healthchecks[-1]  # slim has no curl
    assert any(k == "EXPOSE" and "8000" in rest.split() for k, rest in instructions)
    envs = " ".join(rest for k, rest in instructions if k == "ENV")
    assert re.search(r"\bRECOUP_HOST=0\.0\.0\.0\b", envs)


def test_dockerfile_copies_only_existing_paths_not_ignored() -> None:
    copies = _copies(_dockerfile())
    sources = [s for _, src in copies for s in src]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"

    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert ".venv" in ignored and ".git" in ignored
    for source in sources:
        top = source.rstrip("/").split("/")[0]
        assert top not in ignored, f".dockerignore excludes {source}, which the Dockerfile copies"


# --- the gateway ---------------------------------------------------------------------

def _nginx_locations() -> dict[str, str]:
    text = (DEPLOY / "gateway" / "nginx.conf").read_text()
    text = re.sub(r"#[^\n]*", "", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "''", text)  # quoted strings may hold braces
    return {m.group(1): m.group(2)
            for m in re.finditer(r"location\s+(?:[=~^*]+\s+)?([^\s{]+)\s*\{([^{}]*)\}", text)}


@pytest.mark.parametrize("name", SERVICES)
def test_gateway_routes_each_prefix_to_its_service(name: str) -> None:
    locations = _nginx_locations()
    body = locations.get(f"/{name}/")
    assert body is not None, f"no location /{name}/ in nginx.conf: {sorted(locations)}"
    assert "proxy_pass" in body
    upstreams = set(re.findall(rf"\b({'|'.join(SERVICES)}):8000\b", body))
    assert upstreams == {name}, f"/{name}/ goes to {upstreams}"
    # The path is passed on unchanged: proxy_pass has no URI part that would rewrite it.
    target = re.search(r"proxy_pass\s+([^;]+);", body).group(1)
    assert re.fullmatch(r"http://(\$\w+|\w+:8000)", target), target


def test_gateway_listens_on_8000_with_its_own_healthz() -> None:
    text = (DEPLOY / "gateway" / "nginx.conf").read_text()
    assert re.search(r"^\s*listen\s+8000\s*;", text, re.MULTILINE)
    assert "return 200" in _nginx_locations()["/healthz"]


# --- Kubernetes ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    files = sorted(KUBERNETES.glob("*.yaml"))
    assert files, "no manifests in deploy/kubernetes"
    documents = []
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, f"{path.name} is empty"
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= set(doc), path.name
        documents.extend(docs)
    return documents


def _one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _env_names(container: dict[str, Any]) -> set[str]:
    return {e["name"] for e in container.get("env", [])}


@pytest.mark.parametrize("name", SERVICES)
def test_kubernetes_deployment_and_service(manifests: list[dict[str, Any]], name: str) -> None:
    deployment = _one(manifests, "Deployment", f"recoup-{name}")
    pod = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert container["args"][:2] == ["serve", name]
    # Several replicas: the daily sweep belongs to the CronJob, not to every pod.
    assert "--schedule" not in container["args"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True

    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"  # liveness checks no dependency
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    for probe in (readiness, liveness):
        assert probe["port"] in (8000, *[n for n, port in ports.items() if port == 8000])

    env = _env_names(container)
    assert {"RECOUP_API_KEYS", "RECOUP_AMQP_URL"} <= env
    assert DATABASE_URL_VARS & env == {f"RECOUP_DATABASE_URL_{name.upper()}"}
    assert ("RECOUP_RECONCILIATION_LINK_SECRET" in env) == (name == "reconciliation")

    service = _one(manifests, "Service", f"recoup-{name}")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert any(p["port"] == 8000 for p in service["spec"]["ports"])


def test_kubernetes_migrations_run_once_as_a_job(manifests: list[dict[str, Any]]) -> None:
    jobs = [m for m in manifests if m["kind"] == "Job"]
    assert len(jobs) == 1
    pod = jobs[0]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (container,) = pod["containers"]
    assert container["args"] == ["migrate"]
    assert _env_names(container) >= DATABASE_URL_VARS
    # Nothing else migrates: no Deployment runs `migrate` or turns on migrate-on-start.
    for deployment in (m for m in manifests if m["kind"] == "Deployment"):
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            assert "migrate" not in c.get("args", []) + c.get("command", [])
            assert "RECOUP_MIGRATE_ON_START" not in _env_names(c)


def _cronjobs(manifests: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(service, job) -> the CronJob's spec; `recoup sweep` is the ledger's overdue sweep."""
    found = {}
    for cronjob in (m for m in manifests if m["kind"] == "CronJob"):
        (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        args = container["args"]
        key = ("ledger", "overdue-sweep") if args == ["sweep"] else tuple(args[1:3])
        assert args == ["sweep"] or args[0] == "job", args
        assert key not in found, f"two CronJobs run {key}"
        found[key] = {**cronjob["spec"], "container": container}
    return found


def _minutes(schedule: str) -> int:
    minute, hour = schedule.split()[:2]
    return int(hour) * 60 + int(minute)


def test_kubernetes_runs_every_daily_job_once_a_day(manifests: list[dict[str, Any]]) -> None:
    cronjobs = _cronjobs(manifests)
    assert set(cronjobs) == {(s, j) for s, jobs in DAILY_JOBS.items() for j in jobs}
    for (service, _), spec in cronjobs.items():
        fields = spec["schedule"].split()
        assert len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit(), "once a day"
        assert fields[2:] == ["*", "*", "*"], "every day"
        assert spec["concurrencyPolicy"] == "Forbid"
        env = _env_names(spec["container"])
        assert DATABASE_URL_VARS & env == {f"RECOUP_DATABASE_URL_{service.upper()}"}
        assert "RECOUP_API_KEYS" in env
        assert ("RECOUP_RECONCILIATION_LINK_SECRET" in env) == (service == "reconciliation")
    # Collection-plan's sweep and credit's review build on the ledger's news of the night.
    ledger = _minutes(cronjobs["ledger", "overdue-sweep"]["schedule"])
    assert _minutes(cronjobs["collections", "collection-sweep"]["schedule"]) >= ledger + 60
    assert _minutes(cronjobs["credit", "review"]["schedule"]) > ledger


def test_kubernetes_images_and_secrets_are_consistent(manifests: list[dict[str, Any]]) -> None:
    pods = []
    for m in manifests:
        if m["kind"] in ("Deployment", "Job"):
            pods.append(m["spec"]["template"]["spec"])
        elif m["kind"] == "CronJob":
            pods.append(m["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    containers = [c for pod in pods for c in pod["containers"]]
    jobs = sum(len(j) for j in DAILY_JOBS.values())
    assert len(containers) == len(SERVICES) + 1 + jobs  # the apps, the migration, the jobs
    assert len({c["image"] for c in containers}) == 1, "one image for everything"
    config_maps = {m["metadata"]["name"] for m in manifests if m["kind"] == "ConfigMap"}
    for c in containers:
        for source in c.get("envFrom", []):
            assert source["configMapRef"]["name"] in config_maps
        for e in c.get("env", []):
            if e["name"].startswith("RECOUP_") and e["name"] != "RECOUP_ENVIRONMENT":
                assert "secretKeyRef" in e.get("valueFrom", {}), f"{e['name']} not from a Secret"
    production = [m["data"].get("RECOUP_ENVIRONMENT")
                  for m in manifests if m["kind"] == "ConfigMap"]
    assert "production" in production


def test_kubernetes_ingress_routes_each_prefix(manifests: list[dict[str, Any]]) -> None:
    ingress = _one(manifests, "Ingress", "recoup")
    routes = {p["path"]: p["backend"]["service"]["name"]
              for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert routes == {f"/{name}": f"recoup-{name}" for name in SERVICES}
    services = {m["metadata"]["name"] for m in manifests if m["kind"] == "Service"}
    assert set(routes.values()) <= services


def test_deploy_readme_explains_migrations_once() -> None:
    text = (DEPLOY / "README.md").read_text()
    assert "never from every replica" in text.lower()
    for path in ("gateway/nginx.conf", "postgres/init-databases.sql", "migrate-job.yaml",
                 "ledger-sweep-cronjob.yaml"):
        assert path in text
        assert (DEPLOY / path).exists() or (KUBERNETES / path).exists()
