"""The Kubernetes fields `kube play` understands: anything else gets one warning naming the field,
so that nothing is silently run differently from what the YAML says."""

from __future__ import annotations

from typing import Any

META = {"name", "namespace", "labels", "annotations", "generateName", "uid", "creationTimestamp",
        "resourceVersion"}  # fmt: skip
CONTAINER = {"name", "image", "command", "args", "env", "envFrom", "ports", "workingDir", "volumeMounts",
             "resources", "securityContext", "livenessProbe", "readinessProbe", "stdin", "tty", "imagePullPolicy",
             "terminationMessagePath", "terminationMessagePolicy", "stdinOnce"}  # fmt: skip
POD_SPEC = {"containers", "initContainers", "volumes", "restartPolicy", "hostname", "hostNetwork",
            "securityContext", "terminationGracePeriodSeconds", "dnsPolicy", "enableServiceLinks",
            "schedulerName", "nodeSelector", "tolerations", "affinity", "serviceAccountName",
            "automountServiceAccountToken", "hostAliases", "dnsConfig"}  # fmt: skip
# Accepted but without local meaning (scheduling, cluster identity): no warning.
NO_LOCAL_MEANING = {"nodeSelector", "tolerations", "affinity", "schedulerName", "serviceAccountName",
                    "automountServiceAccountToken", "dnsPolicy", "enableServiceLinks", "namespace", "uid",
                    "creationTimestamp", "resourceVersion", "terminationMessagePath",
                    "terminationMessagePolicy", "imagePullPolicy", "generateName"}  # fmt: skip
VOLUME = {"name", "hostPath", "persistentVolumeClaim", "configMap", "secret", "emptyDir"}
SECURITY = {"privileged", "capabilities", "runAsUser", "runAsGroup", "readOnlyRootFilesystem",
            "allowPrivilegeEscalation", "runAsNonRoot"}  # fmt: skip
PROBE = {"exec", "httpGet", "tcpSocket", "grpc", "periodSeconds", "timeoutSeconds", "initialDelaySeconds", "failureThreshold",
         "successThreshold"}  # fmt: skip
WORKLOAD_SPEC = {"Deployment": {"replicas", "selector", "template", "strategy", "revisionHistoryLimit"},
                 "DaemonSet": {"selector", "template", "updateStrategy", "revisionHistoryLimit"},
                 "Job": {"template", "backoffLimit", "completions", "parallelism", "ttlSecondsAfterFinished"}}
SERVICE_SPEC = {"ports", "selector", "type", "clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy",
                "sessionAffinity", "externalTrafficPolicy", "internalTrafficPolicy"}  # fmt: skip
TOP = {"apiVersion", "kind", "metadata", "spec", "data", "binaryData", "stringData", "type", "immutable",
       "status"}  # fmt: skip


def unknown(obj: Any, allowed: set[str], where: str, warnings: list[str]) -> None:
    """One warning per field of `obj` not in `allowed` (those without local meaning pass quietly)."""
    if not isinstance(obj, dict):
        return
    for key in obj:
        if key not in allowed and key not in NO_LOCAL_MEANING:
            warnings.append(f"{where}.{key} is not supported by podpy: ignored")


def check_pod_spec(spec: dict[str, Any], where: str, warnings: list[str]) -> None:
    unknown(spec, POD_SPEC, where, warnings)
    unknown(spec.get("securityContext"), SECURITY | {"fsGroup", "supplementalGroups"},
            f"{where}.securityContext", warnings)  # fmt: skip
    for i, c in enumerate(spec.get("containers") or []):
        cw = f"{where}.containers[{i}]"
        unknown(c, CONTAINER, cw, warnings)
        unknown(c.get("securityContext"), SECURITY, f"{cw}.securityContext", warnings)
        for probe in ("livenessProbe", "readinessProbe"):
            unknown(c.get(probe), PROBE, f"{cw}.{probe}", warnings)
        if c.get("resources"):
            unknown(c["resources"], {"limits", "requests"}, f"{cw}.resources", warnings)
    for i, v in enumerate(spec.get("volumes") or []):
        unknown(v, VOLUME, f"{where}.volumes[{i}]", warnings)
    if spec.get("initContainers"):
        warnings.append(f"{where}.initContainers is not supported by podpy: ignored")
