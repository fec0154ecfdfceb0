"""Kubernetes on paper: deploy/helm-values.yaml and deploy/kubernetes/, checked without a cluster.

- The z2jh values against the keys and types of the chart's schema (recorded in
  kubernetes_schema.py for the chart version named there and in the README), and the hub
  service, roles and scopes against deploy/jupyterhub_config.py and JupyterHub's own classes.
- User pods get the service's URL and nothing secret.
- The manifests through ``kubectl apply --dry-run=client --validate=false`` (kube_discovery.py
  serves the discovery it needs; nothing reaches a cluster) and a check of every field against
  the types of the Kubernetes API reference.
- The NetworkPolicies, evaluated: user pods reach the service and none of the data stores.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml  # type: ignore[import-untyped]
from jupyterhub.app import JupyterHub  # type: ignore[import-untyped]
from jupyterhub.auth import Authenticator  # type: ignore[import-untyped]
from jupyterhub.services.service import Service  # type: ignore[import-untyped]
from jupyterhub.spawner import Spawner  # type: ignore[import-untyped]
from oauthenticator.github import GitHubOAuthenticator  # type: ignore[import-untyped]
from traitlets.config.loader import PyFileConfigLoader

from jupyter_ide.hubclient.connection import read_connection

from .kube_discovery import discovery
from .kubernetes_schema import (
    CLOSED,
    ENUMS,
    KUBERNETES,
    NETWORK_POLICY_EGRESS_RULE,
    Z2JH_CONFIG_CLASS,
    Z2JH_REQUIRED,
    Z2JH_VALUES,
)
from .kubernetes_schema import (
    Path as KeyPath,
)

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
VALUES = DEPLOY / "helm-values.yaml"
MANIFESTS = DEPLOY / "kubernetes"
ACCESS = "access:services!service=ide"

# Labels z2jh gives its pods, and those the data stores are told to carry (networkpolicy.yaml).
USER_POD = {"app": "jupyterhub", "component": "singleuser-server", "release": "jhub"}
HUB_POD = {"app": "jupyterhub", "component": "hub", "release": "jhub"}
PROXY_POD = {"app": "jupyterhub", "component": "proxy", "release": "jhub"}
DATA_STORES = {
    "postgresql": 5432,
    "redis": 6379,
    "s3": 9000,
}


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Files only: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server here."""


def load_values() -> dict[str, Any]:
    """The z2jh values file."""
    values = yaml.safe_load(VALUES.read_text())
    assert isinstance(values, dict)
    return values


def manifests() -> list[dict[str, Any]]:
    """Every object of deploy/kubernetes/."""
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    return found


def one(kind: str, name: str) -> dict[str, Any]:
    """The manifest object of ``kind`` named ``name``."""
    (found,) = [m for m in manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


# -- types -----------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    """The JSON type of a YAML value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def schema_allows(allowed: tuple[str, ...], value: Any) -> bool:
    """Whether JSON-schema ``allowed`` types admit ``value`` (an integer is a number too)."""
    kind = json_type(value)
    return kind in allowed or (kind == "integer" and "number" in allowed)


# -- the z2jh values against the chart's schema ------------------------------------------------


def z2jh_problems(values: Mapping[str, Any]) -> list[str]:
    """Every key of ``values`` the recorded chart schema does not define, or types otherwise."""
    problems: list[str] = []

    def entry(path: KeyPath) -> tuple[KeyPath, tuple[tuple[str, ...], str]] | None:
        if path in Z2JH_VALUES:
            return path, Z2JH_VALUES[path]
        wild = (*path[:-1], "*")
        if wild in Z2JH_VALUES:
            return wild, Z2JH_VALUES[wild]
        return None

    def walk(value: Any, path: KeyPath) -> None:
        found = entry(path)
        if found is None:
            problems.append(f"{'.'.join(path)}: not a key of the chart's schema")
            return
        where, (types, kind) = found
        if where[-1] == "*" and where[:-1] == ("hub", "config"):
            if not re.match(Z2JH_CONFIG_CLASS, path[-1]):
                problems.append(f"{'.'.join(path)}: hub.config keys are class names")
        if not schema_allows(types, value):
            problems.append(f"{'.'.join(path)}: {json_type(value)}, the schema says {types}")
            return
        for key in Z2JH_REQUIRED.get(path, ()):
            if key not in value:
                problems.append(f"{'.'.join(path)}: {key} is required")
        if kind == CLOSED and isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, str(key)))

    for key, item in values.items():
        walk(item, (str(key),))
    return problems


def test_the_values_use_only_keys_and_types_of_the_charts_schema() -> None:
    """Every key of the values is one the chart defines, with a type it allows."""
    values = load_values()
    assert z2jh_problems(values) == []
    # Open objects are the chart's pass-through; those used here are checked below.
    assert set(values) == {"hub", "singleuser"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda v: v["singleuser"].update(extraEnvs={}), "singleuser.extraEnvs: not a key"),
        (lambda v: v["singleuser"]["memory"].update(limit=["2G"]), "singleuser.memory.limit"),
        (lambda v: v["singleuser"]["image"].pop("tag"), "tag is required"),
        (lambda v: v["hub"]["config"].update(kubespawner={}), "hub.config keys are class"),
        (
            lambda v: v["singleuser"]["networkPolicy"]["egressAllowRules"].update(privateIPs="no"),
            "privateIPs: string",
        ),
        (lambda v: v["hub"].update(service={"ide": {}}), "hub.service: not a key"),
    ],
)
def test_the_schema_check_refuses_unknown_keys_and_wrong_types(change: Any, problem: str) -> None:
    """A misspelt key, a wrong type, a missing required key: each is reported."""
    values = load_values()
    change(values)
    assert any(problem in p for p in z2jh_problems(values)), z2jh_problems(values)


def test_the_pass_through_config_names_real_traits() -> None:
    """What the chart passes through untyped is checked against JupyterHub's classes."""
    config = load_values()["hub"]["config"]
    classes = {
        "JupyterHub": JupyterHub,
        "GitHubOAuthenticator": GitHubOAuthenticator,
        "Authenticator": Authenticator,
        "KubeSpawner": Spawner,  # the traits used are the base Spawner's
    }
    assert set(config) == set(classes)
    for name, settings in config.items():
        traits = classes[name].class_traits()
        for trait, value in settings.items():
            assert trait in traits, f"{name}.{trait} is no trait"
            assert traits[trait].metadata.get("config"), f"{name}.{trait} is not configurable"
            if isinstance(value, list):
                assert all(isinstance(item, str) for item in value)


def load_hub_config(monkeypatch: pytest.MonkeyPatch) -> Any:
    """deploy/jupyterhub_config.py with an external service, as the values run it."""
    for name in list(os.environ):
        if name.startswith(("JUPYTER_IDE_", "AWS_", "DOCKER_", "OPENAI_", "GEMINI_")):
            monkeypatch.delenv(name)
    env = {
        "OAUTH_CLIENT_ID": "hub",
        "OAUTH_CLIENT_SECRET": "s",
        "JUPYTER_IDE_SERVICE": "external",
        "JUPYTER_IDE_SERVICE_TOKEN": "t",
        "JUPYTER_IDE_SERVICE_URL": "http://jupyter-ide-service:10101",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


def test_the_hub_service_roles_and_scopes_are_the_hub_configs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hub.services.ide, the roles and the scopes are those deploy/jupyterhub_config.py sets."""
    c = load_hub_config(monkeypatch)
    hub = load_values()["hub"]
    (expected,) = c.JupyterHub.services
    service = hub["services"]["ide"]
    for key in ("url", "oauth_client_allowed_scopes", "oauth_no_confirm"):
        assert service[key] == expected[key], key
    # Every key is one of JupyterHub's service settings; no token is written here.
    assert set(service) <= set(Service.class_trait_names())
    assert not {"api_token", "apiToken"} & set(service)
    assert hub["config"]["JupyterHub"]["custom_scopes"] == {
        name: {"description": scope["description"]}
        for name, scope in c.JupyterHub.custom_scopes.items()
    }
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert set(hub["loadRoles"]) == set(roles)
    for name, role in hub["loadRoles"].items():
        assert role["scopes"] == roles[name]["scopes"], name
    assert hub["loadRoles"]["user"]["scopes"] == ["self", ACCESS]
    spawner = hub["config"]["KubeSpawner"]
    assert spawner["server_token_scopes"] == c.Spawner.server_token_scopes
    assert spawner["oauth_client_allowed_scopes"] == c.Spawner.oauth_client_allowed_scopes


def test_the_service_url_is_its_own_deployments_service() -> None:
    """hub.services.ide.url and the user pods' URL name the Service in front of the pods."""
    values = load_values()
    service = one("Service", "jupyter-ide-service")
    port = service["spec"]["ports"][0]["port"]
    hub_url = urlsplit(values["hub"]["services"]["ide"]["url"])
    assert (hub_url.hostname, hub_url.port) == ("jupyter-ide-service", port)
    deployment = one("Deployment", "jupyter-ide-service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(service["spec"]["selector"], pod_labels)
    assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert service["spec"]["ports"][0]["targetPort"] in [p["name"] for p in container["ports"]]
    env = {e["name"]: e for e in container["env"]}
    listen = urlsplit(env["JUPYTERHUB_SERVICE_URL"]["value"])
    assert listen.port == container["ports"][0]["containerPort"]
    assert env["JUPYTERHUB_SERVICE_NAME"]["value"] == "ide"
    # The chart's generated token, from its hub Secret, under the service's key.
    assert env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "hub",
        "key": "hub.services.ide.apiToken",
    }
    # z2jh's hub NetworkPolicy admits only pods that carry this label.
    assert pod_labels["hub.jupyter.org/network-access-hub"] == "true"


# -- nothing secret reaches user pods ----------------------------------------------------------

SECRET_VALUE = (
    re.compile(r"://[^/@\s]*:[^/@\s]+@"),  # a URL with a password
    re.compile(r"\bAKIA[0-9A-Z]{12,}"),  # an AWS access key id
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # an OpenAI-style key
    re.compile(r"\b[0-9a-fA-F]{32,}\b"),  # a hex token or key
    re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"),  # a base64 key (Fernet, AWS secret)
)
SECRET_NAME = re.compile(
    r"PASSWORD|SECRET|TOKEN|_KEY|CREDENTIAL|DB_URL|REDIS_URL|STORAGE_URL|S3_|^AWS_|DOCKER_", re.I
)


def secrets_in(value: Any, where: str = "") -> Iterator[str]:
    """Every place under ``value`` holding a secret-looking name or value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_NAME.search(str(key)):
                yield f"{where}.{key} (name)"
            yield from secrets_in(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and SECRET_NAME.search(str(item.get("name", ""))):
                yield f"{where}[{i}] ({item['name']})"
            yield from secrets_in(item, f"{where}[{i}]")
    elif isinstance(value, str) and any(p.search(value) for p in SECRET_VALUE):
        yield where


def test_user_pods_get_the_services_url_and_nothing_secret() -> None:
    """singleuser.extraEnv holds JUPYTER_IDE_SERVICE_URL alone; nothing in singleuser is secret."""
    singleuser = load_values()["singleuser"]
    assert list(singleuser["extraEnv"]) == ["JUPYTER_IDE_SERVICE_URL"]
    url = singleuser["extraEnv"]["JUPYTER_IDE_SERVICE_URL"]
    # The user's server reads it as the hub gives it: with its own token beside it.
    connection = read_connection({"JUPYTER_IDE_SERVICE_URL": url, "JUPYTERHUB_API_TOKEN": "x"})
    assert connection is not None
    parts = urlsplit(connection.url)
    port = one("Service", "jupyter-ide-service")["spec"]["ports"][0]["port"]
    assert (parts.hostname, parts.port, parts.path) == (
        "jupyter-ide-service",
        port,
        "/services/ide",
    )
    assert list(secrets_in(singleuser, "singleuser")) == []
    assert list(secrets_in(load_values()["hub"]["services"], "hub.services")) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JUPYTER_IDE_DB_URL", "postgresql+psycopg://ide@db/ide"),
        ("DATABASE", "postgresql+psycopg://ide:hunter2@db/ide"),
        ("CACHE", "redis://:s3cr3t@redis:6379/0"),
        ("AWS_ACCESS_KEY_ID", "AKIA0123456789ABCDEF"),
        ("KEYS", "0123456789abcdef0123456789abcdef"),
        ("MODEL", "sk-abcdefghijklmnop0123"),
        ("FERNET", "ZmVybmV0LWtleS1mZXJuZXQta2V5LWZlcm5ldC1rZXk="),
    ],
)
def test_the_secret_scan_finds_planted_secrets(name: str, value: str) -> None:
    """Each kind of secret planted in singleuser.extraEnv is found (as a map or a list)."""
    singleuser = load_values()["singleuser"]
    singleuser["extraEnv"][name] = value
    assert list(secrets_in(singleuser, "singleuser"))
    singleuser["extraEnv"] = [{"name": name, "value": value}]
    assert list(secrets_in(singleuser, "singleuser"))


def test_the_service_deployment_writes_no_secret_down() -> None:
    """The Deployment's secrets come from Secrets by reference; its literal values hold none."""
    deployment = one("Deployment", "jupyter-ide-service")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    literals = [e["value"] for e in container["env"] if "value" in e]
    assert not [v for v in literals if any(p.search(v) for p in SECRET_VALUE)]
    refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
    assert [e["name"] for e in container["env"] if "valueFrom" in e] == ["JUPYTERHUB_API_TOKEN"]
    assert refs == [{"name": "hub", "key": "hub.services.ide.apiToken"}]
    assert container["envFrom"] == [{"secretRef": {"name": "jupyter-ide-service"}}]
    assert not [m for m in manifests() if m["kind"] == "Secret"]  # made by the operator


# -- the manifests: kubectl's client-side dry run and the API reference's types ----------------


def test_kubectl_client_dry_run_accepts_the_manifests(tmp_path: Path) -> None:
    """kubectl parses and maps every object; nothing is written anywhere."""
    with discovery() as api:
        done = api.kubectl(
            tmp_path, "apply", "--dry-run=client", "--validate=false", "-f", str(MANIFESTS),
            "-o", "json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert {method for method, _ in api.requests} == {"GET"}
    out = json.loads(done.stdout)
    items = out["items"] if out.get("kind") == "List" else [out]
    names = sorted((i["kind"], i["metadata"]["name"]) for i in items)
    assert names == sorted((m["kind"], m["metadata"]["name"]) for m in manifests())
    for item in items:
        (mine,) = [
            m
            for m in manifests()
            if (m["kind"], m["metadata"]["name"]) == (item["kind"], item["metadata"]["name"])
        ]
        assert item["spec"] == mine["spec"]  # every field survived kubectl's decoding


def test_kubectl_client_dry_run_can_fail(tmp_path: Path) -> None:
    """The same run refuses a kind the API does not serve at that version."""
    bad = tmp_path / "bad.yaml"
    deployment = one("Deployment", "jupyter-ide-service")
    bad.write_text(yaml.safe_dump({**deployment, "apiVersion": "extensions/v1beta1"}))
    with discovery() as api:
        done = api.kubectl(
            tmp_path, "apply", "--dry-run=client", "--validate=false", "-f", str(bad)
        )
    assert done.returncode != 0
    assert "Deployment" in done.stderr


def field_problems(value: Any, table: Mapping[KeyPath, str], path: KeyPath = ()) -> list[str]:
    """Every field of ``value`` the API reference (as recorded) lacks, or types otherwise."""
    where = ".".join(path) or "(object)"
    if path not in table:
        return [f"{where}: no such field"]
    expected = table[path]
    problems: list[str] = []
    if expected in ("map", "map-quantity"):
        if not isinstance(value, dict):
            return [f"{where}: {json_type(value)}, the API says {expected}"]
        for key, item in value.items():
            ok = isinstance(item, str) or (
                expected == "map-quantity" and json_type(item) in ("integer", "number")
            )
            if not isinstance(key, str) or not ok:
                problems.append(f"{where}.{key}: {json_type(item)}, the API says {expected}")
        return problems
    if expected == "int-or-string":
        if json_type(value) not in ("integer", "string"):
            problems.append(f"{where}: {json_type(value)}, the API says int-or-string")
        return problems
    if json_type(value) != expected:
        return [f"{where}: {json_type(value)}, the API says {expected}"]
    name = next((key for key in reversed(path) if key != "[]"), "")
    if expected == "string" and name in ENUMS and value not in ENUMS[name]:
        problems.append(f"{where}: {value!r} is not one of {sorted(ENUMS[name])}")
    if isinstance(value, dict):
        for key, item in value.items():
            problems += field_problems(item, table, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            problems += field_problems(item, table, (*path, "[]"))
    return problems


def test_every_manifest_field_has_the_api_references_type() -> None:
    """Each field used exists in the API reference for its kind, with that type."""
    objects = manifests()
    assert sorted({(m["apiVersion"], m["kind"]) for m in objects}) == sorted(KUBERNETES)
    for manifest in objects:
        table = KUBERNETES[(manifest["apiVersion"], manifest["kind"])]
        assert field_problems(manifest, table) == [], manifest["metadata"]["name"]


def test_the_values_egress_rules_are_network_policy_rules() -> None:
    """singleuser.networkPolicy.egress (untyped by the chart) holds valid egress rules."""
    for rule in load_values()["singleuser"]["networkPolicy"]["egress"]:
        assert field_problems(rule, NETWORK_POLICY_EGRESS_RULE) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["spec"].update(replicas="2"), "spec.replicas: string"),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(containerport=1),
            "containers.[].containerport: no such field",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
                protocol="HTTP"
            ),
            "'HTTP' is not one of",
        ),
        (lambda d: d["metadata"]["labels"].update(tier=3), "metadata.labels.tier: integer"),
        (
            lambda d: d["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"
            ][0]["labelSelector"].update(matchExpressions=[{"key": "a", "operator": "Equals"}]),
            "'Equals' is not one of",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"].update(
                requests=["1Gi"]
            ),
            "resources.requests: array",
        ),
    ],
)
def test_the_field_check_refuses_typos_and_wrong_types(change: Any, problem: str) -> None:
    """A misspelt field, a wrong type, a value outside an enumeration: each is reported."""
    deployment = json.loads(json.dumps(one("Deployment", "jupyter-ide-service")))
    change(deployment)
    found = field_problems(deployment, KUBERNETES[("apps/v1", "Deployment")])
    assert any(problem in p for p in found), found


# -- the NetworkPolicies, evaluated ------------------------------------------------------------


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (or a plain matchLabels map) selects ``labels``."""
    if "matchLabels" in selector or "matchExpressions" in selector:
        match, expressions = selector.get("matchLabels", {}), selector.get("matchExpressions", [])
    else:  # a Service's selector: a plain map
        match, expressions = selector, []
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expression in expressions:
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def ingress_allowed(source: Mapping[str, str], target: Mapping[str, str], port: int) -> bool:
    """Whether the NetworkPolicies here let ``source`` pods connect to ``target`` on ``port``.

    All pods in one namespace (the hub's). A pod no policy selects for Ingress takes anything.
    """
    policies = [
        p
        for p in manifests()
        if p["kind"] == "NetworkPolicy"
        and "Ingress" in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"], target)
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from", [])
            ports = [p["port"] for p in rule.get("ports", [])]
            peer_ok = not peers or any(
                "podSelector" in peer
                and "namespaceSelector" not in peer
                and selects(peer["podSelector"], source)
                for peer in peers
            )
            if peer_ok and (not ports or port in ports):
                return True
    return False


def test_user_pods_reach_the_service_and_none_of_the_data_stores() -> None:
    """component=singleuser-server: the service's port yes; PostgreSQL, Redis, S3 no."""
    deployment = one("Deployment", "jupyter-ide-service")
    service_pod = deployment["spec"]["template"]["metadata"]["labels"]
    service_port = one("Service", "jupyter-ide-service")["spec"]["ports"][0]["port"]
    for component, port in DATA_STORES.items():
        store = {
            "app.kubernetes.io/part-of": "jupyter-ide",
            "app.kubernetes.io/component": component,
        }
        assert not ingress_allowed(USER_POD, store, port), component
        assert not ingress_allowed(USER_POD, store, service_port), component
        assert not ingress_allowed(HUB_POD, store, port), component
        assert ingress_allowed(service_pod, store, port), component
    for caller in (USER_POD, HUB_POD, PROXY_POD):
        assert ingress_allowed(caller, service_pod, service_port)
        assert not ingress_allowed(caller, service_pod, 22)
    assert not ingress_allowed({"app": "something-else"}, service_pod, service_port)
    # And the user pods' own egress (z2jh values) names those service pods and that port.
    policy = load_values()["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["egressAllowRules"]["privateIPs"] is False
    assert policy["egressAllowRules"]["cloudMetadataServer"] is False
    (rule,) = policy["egress"]
    assert any(selects(peer["podSelector"], service_pod) for peer in rule["to"])
    assert [p["port"] for p in rule["ports"]] == [service_port]
