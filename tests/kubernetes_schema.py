"""Test data: the keys and types the Kubernetes files use, as their schemas define them.

No tests here. Two sources, read by hand and recorded path by path (only the paths the files
use, not the schemas themselves):

- the z2jh chart's ``jupyterhub/values.schema.yaml`` at tag ``Z2JH_CHART_VERSION`` of
  github.com/jupyterhub/zero-to-jupyterhub-k8s (the source of its ``values.schema.json``);
- the Kubernetes API reference (v1.32) for Deployment (apps/v1), Service (v1) and
  NetworkPolicy (networking.k8s.io/v1).

Paths are tuples of keys; ``*`` stands for any key of a map, ``[]`` for the items of a list.
"""

from __future__ import annotations

Z2JH_CHART_VERSION = "4.4.0"  # JupyterHub 5.5.0 (the chart's appVersion)

Path = tuple[str, ...]

# A z2jh key: the JSON types the chart's schema allows there, and whether the schema types
# what is below it ("closed": additionalProperties false, every key listed) or lets anything
# through ("open": additionalProperties true, or a list without an item schema).
CLOSED, OPEN, LEAF = "closed", "open", "leaf"

Z2JH_VALUES: dict[Path, tuple[tuple[str, ...], str]] = {
    ("hub",): (("object",), CLOSED),
    ("hub", "config"): (("object",), CLOSED),  # + patternProperties ^[A-Z].*$: objects
    ("hub", "config", "JupyterHub"): (("object",), OPEN),
    ("hub", "config", "*"): (("object",), OPEN),  # a class name: ^[A-Z].*$
    ("hub", "services"): (("object",), OPEN),  # one key per service (the chart's docs)
    ("hub", "loadRoles"): (("object",), OPEN),  # one key per role (the chart's docs)
    ("singleuser",): (("object",), CLOSED),
    ("singleuser", "image"): (("object",), CLOSED),  # required: name, tag
    ("singleuser", "image", "name"): (("string",), LEAF),
    ("singleuser", "image", "tag"): (("string",), LEAF),
    ("singleuser", "defaultUrl"): (("string", "null"), LEAF),
    ("singleuser", "extraEnv"): (("object", "array"), OPEN),
    ("singleuser", "networkPolicy"): (("object",), CLOSED),
    ("singleuser", "networkPolicy", "enabled"): (("boolean",), LEAF),
    ("singleuser", "networkPolicy", "egressAllowRules"): (("object",), CLOSED),
    ("singleuser", "networkPolicy", "egressAllowRules", "privateIPs"): (("boolean",), LEAF),
    ("singleuser", "networkPolicy", "egressAllowRules", "nonPrivateIPs"): (("boolean",), LEAF),
    ("singleuser", "networkPolicy", "egressAllowRules", "cloudMetadataServer"): (
        ("boolean",),
        LEAF,
    ),
    ("singleuser", "networkPolicy", "egress"): (("array",), OPEN),  # NetworkPolicyEgressRules
    ("singleuser", "memory"): (("object",), CLOSED),
    ("singleuser", "memory", "limit"): (("number", "string", "null"), LEAF),
    ("singleuser", "memory", "guarantee"): (("number", "string", "null"), LEAF),
}
Z2JH_REQUIRED: dict[Path, tuple[str, ...]] = {("singleuser", "image"): ("name", "tag")}
# The names the schema's hub.config patternProperties accepts.
Z2JH_CONFIG_CLASS = r"^[A-Z].*$"

# Kubernetes: the type of each field the manifests use. "map" is map[string]string,
# "quantity" a resource.Quantity (a string such as 500m, or a number), "int-or-string" an
# IntOrString.
LABEL_SELECTOR: dict[Path, str] = {
    (): "object",
    ("matchLabels",): "map",
    ("matchExpressions",): "array",
    ("matchExpressions", "[]"): "object",
    ("matchExpressions", "[]", "key"): "string",
    ("matchExpressions", "[]", "operator"): "string",
    ("matchExpressions", "[]", "values"): "array",
    ("matchExpressions", "[]", "values", "[]"): "string",
}
NETWORK_POLICY_PEER: dict[Path, str] = {
    (): "object",
    **{("podSelector", *k): v for k, v in LABEL_SELECTOR.items()},
    **{("namespaceSelector", *k): v for k, v in LABEL_SELECTOR.items()},
}
NETWORK_POLICY_PORT: dict[Path, str] = {
    (): "object",
    ("port",): "int-or-string",
    ("protocol",): "string",
}
NETWORK_POLICY_EGRESS_RULE: dict[Path, str] = {
    (): "object",
    ("to",): "array",
    **{("to", "[]", *k): v for k, v in NETWORK_POLICY_PEER.items()},
    ("ports",): "array",
    **{("ports", "[]", *k): v for k, v in NETWORK_POLICY_PORT.items()},
}
NETWORK_POLICY_INGRESS_RULE: dict[Path, str] = {
    (): "object",
    ("from",): "array",
    **{("from", "[]", *k): v for k, v in NETWORK_POLICY_PEER.items()},
    ("ports",): "array",
    **{("ports", "[]", *k): v for k, v in NETWORK_POLICY_PORT.items()},
}
OBJECT_META: dict[Path, str] = {
    (): "object",
    ("name",): "string",
    ("labels",): "map",
    ("annotations",): "map",
}
CONTAINER: dict[Path, str] = {
    (): "object",
    ("name",): "string",
    ("image",): "string",
    ("command",): "array",
    ("command", "[]"): "string",
    ("args",): "array",
    ("args", "[]"): "string",
    ("ports",): "array",
    ("ports", "[]"): "object",
    ("ports", "[]", "name"): "string",
    ("ports", "[]", "containerPort"): "integer",
    ("ports", "[]", "protocol"): "string",
    ("env",): "array",
    ("env", "[]"): "object",
    ("env", "[]", "name"): "string",
    ("env", "[]", "value"): "string",
    ("env", "[]", "valueFrom"): "object",
    ("env", "[]", "valueFrom", "secretKeyRef"): "object",
    ("env", "[]", "valueFrom", "secretKeyRef", "name"): "string",
    ("env", "[]", "valueFrom", "secretKeyRef", "key"): "string",
    ("envFrom",): "array",
    ("envFrom", "[]"): "object",
    ("envFrom", "[]", "secretRef"): "object",
    ("envFrom", "[]", "secretRef", "name"): "string",
    ("resources",): "object",
    ("resources", "requests"): "map-quantity",
    ("resources", "limits"): "map-quantity",
    ("securityContext",): "object",
    ("securityContext", "runAsUser"): "integer",
    ("securityContext", "allowPrivilegeEscalation"): "boolean",
    ("volumeMounts",): "array",
    ("volumeMounts", "[]"): "object",
    ("volumeMounts", "[]", "name"): "string",
    ("volumeMounts", "[]", "mountPath"): "string",
    **{
        (probe, *k): v
        for probe in ("readinessProbe", "livenessProbe")
        for k, v in {
            (): "object",
            ("tcpSocket",): "object",
            ("tcpSocket", "port"): "int-or-string",
            ("initialDelaySeconds",): "integer",
            ("periodSeconds",): "integer",
        }.items()
    },
}
POD_SPEC: dict[Path, str] = {
    (): "object",
    ("nodeSelector",): "map",
    ("affinity",): "object",
    ("affinity", "podAntiAffinity"): "object",
    ("affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"): "array",
    **{
        (
            "affinity",
            "podAntiAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "[]",
            *k,
        ): v
        for k, v in {
            (): "object",
            ("topologyKey",): "string",
            **{("labelSelector", *k): v for k, v in LABEL_SELECTOR.items()},
        }.items()
    },
    ("automountServiceAccountToken",): "boolean",
    ("terminationGracePeriodSeconds",): "integer",
    ("containers",): "array",
    **{("containers", "[]", *k): v for k, v in CONTAINER.items()},
    ("volumes",): "array",
    ("volumes", "[]"): "object",
    ("volumes", "[]", "name"): "string",
    ("volumes", "[]", "hostPath"): "object",
    ("volumes", "[]", "hostPath", "path"): "string",
    ("volumes", "[]", "hostPath", "type"): "string",
}

KUBERNETES: dict[tuple[str, str], dict[Path, str]] = {
    ("apps/v1", "Deployment"): {
        (): "object",
        ("apiVersion",): "string",
        ("kind",): "string",
        **{("metadata", *k): v for k, v in OBJECT_META.items()},
        ("spec",): "object",
        ("spec", "replicas"): "integer",
        **{("spec", "selector", *k): v for k, v in LABEL_SELECTOR.items()},
        ("spec", "strategy"): "object",
        ("spec", "strategy", "type"): "string",
        ("spec", "strategy", "rollingUpdate"): "object",
        ("spec", "strategy", "rollingUpdate", "maxUnavailable"): "int-or-string",
        ("spec", "strategy", "rollingUpdate", "maxSurge"): "int-or-string",
        ("spec", "template"): "object",
        **{("spec", "template", "metadata", *k): v for k, v in OBJECT_META.items()},
        **{("spec", "template", "spec", *k): v for k, v in POD_SPEC.items()},
    },
    ("v1", "Service"): {
        (): "object",
        ("apiVersion",): "string",
        ("kind",): "string",
        **{("metadata", *k): v for k, v in OBJECT_META.items()},
        ("spec",): "object",
        ("spec", "type"): "string",
        ("spec", "selector"): "map",
        ("spec", "sessionAffinity"): "string",
        ("spec", "sessionAffinityConfig"): "object",
        ("spec", "sessionAffinityConfig", "clientIP"): "object",
        ("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"): "integer",
        ("spec", "ports"): "array",
        ("spec", "ports", "[]"): "object",
        ("spec", "ports", "[]", "name"): "string",
        ("spec", "ports", "[]", "port"): "integer",
        ("spec", "ports", "[]", "targetPort"): "int-or-string",
        ("spec", "ports", "[]", "protocol"): "string",
    },
    ("networking.k8s.io/v1", "NetworkPolicy"): {
        (): "object",
        ("apiVersion",): "string",
        ("kind",): "string",
        **{("metadata", *k): v for k, v in OBJECT_META.items()},
        ("spec",): "object",
        **{("spec", "podSelector", *k): v for k, v in LABEL_SELECTOR.items()},
        ("spec", "policyTypes"): "array",
        ("spec", "policyTypes", "[]"): "string",
        ("spec", "ingress"): "array",
        **{("spec", "ingress", "[]", *k): v for k, v in NETWORK_POLICY_INGRESS_RULE.items()},
        ("spec", "egress"): "array",
        **{("spec", "egress", "[]", *k): v for k, v in NETWORK_POLICY_EGRESS_RULE.items()},
    },
}
# Enumerations the API reference gives for the string fields used.
ENUMS: dict[str, frozenset[str]] = {
    "protocol": frozenset({"TCP", "UDP", "SCTP"}),
    "policyTypes": frozenset({"Ingress", "Egress"}),
    "operator": frozenset({"In", "NotIn", "Exists", "DoesNotExist"}),
    "sessionAffinity": frozenset({"ClientIP", "None"}),
}

# What kubectl's discovery needs for these kinds: group/version -> (resource, kind, namespaced).
DISCOVERY: dict[str, list[tuple[str, str, bool]]] = {
    "v1": [("services", "Service", True), ("namespaces", "Namespace", False)],
    "apps/v1": [("deployments", "Deployment", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
}
