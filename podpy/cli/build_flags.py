"""`build`'s Podman flags beyond the common ones, as data (typer-free): those that configure every
RUN container (the same Flag entries as `run`, run_flags) and those that shape the image or the pulls.
build.py adds them to the typer command and turns their values into a BuildRequest."""

from __future__ import annotations

import os

from podpy.cli.run_flags import BOOL, BY_DECL, INT, LIST, STR, Flag
from podpy.errors import InvalidArgument

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# RUN containers: `run`'s own flags (same parsing, same spec code), by their long spelling.
STEP_DECLS = ("--add-host", "--cap-add", "--cap-drop", "--cgroup-parent", "--cgroupns", "--cpu-period",
              "--cpu-quota", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "--device", "--dns",
              "--dns-option", "--dns-search", "--ipc", "--memory", "--memory-swap", "--no-hosts", "--pid",
              "--security-opt", "--shm-size", "--ulimit", "--userns", "--uts", "--volume", "--http-proxy")  # fmt: skip
STEP_FLAGS = tuple(BY_DECL[d] for d in STEP_DECLS)

# RUN containers' ID mappings (buildah's spellings of run's --uidmap, --gidmap, --subuidname, --subgidname)
IDMAP_FLAGS = (
    Flag("userns_uid_map", ("--userns-uid-map",), STR, "containerUID:hostUID:length UID mapping of RUN's user namespace"),
    Flag("userns_gid_map", ("--userns-gid-map",), STR, "containerGID:hostGID:length GID mapping of RUN's user namespace"),
    Flag("userns_uid_map_user", ("--userns-uid-map-user",), STR, "Map RUN's UIDs from this name's /etc/subuid ranges"),
    Flag("userns_gid_map_group", ("--userns-gid-map-group",), STR, "Map RUN's GIDs from this name's /etc/subgid ranges"),
)
IDMAP_MORE = {"userns_uid_map": "uidmap", "userns_gid_map": "gidmap", "userns_uid_map_user": "subuidname",
              "userns_gid_map_group": "subgidname"}  # fmt: skip

IMAGE_FLAGS = (
    Flag("env", ("--env",), LIST, "Set an environment variable in the built image: KEY=VALUE, or KEY for the host's"),
    Flag("unsetenv", ("--unsetenv",), LIST, "Unset an environment variable in the final image"),
    Flag("timestamp", ("--timestamp",), INT, "Created time (and file times of new layers) in epoch seconds: reproducible images"),
    Flag("omit_history", ("--omit-history",), BOOL, "Omit the build history from the image", False),
    Flag("identity_label", ("--identity-label",), BOOL, "Add the io.podpy.version label (not added unless asked)"),
    Flag("from_image", ("--from",), STR, "Image to use instead of the first FROM's"),
    Flag("ignorefile", ("--ignorefile",), STR, "Path of an alternate .dockerignore file"),
    Flag("skip_unused_stages", ("--skip-unused-stages",), BOOL, "Skip stages the target does not need", True),
    Flag("stdin", ("--stdin",), BOOL, "Pass stdin into RUN containers", False),
    Flag("hooks_dir", ("--hooks-dir",), LIST, "OCI hooks directory (podpy runs no OCI hooks: must be empty or absent)"),
    Flag("runtime_flag", ("--runtime-flag",), LIST, "Global flag for an external runtime (as podpy --runtime-flag)"),
    Flag("os", ("--os",), STR, "OS of the image (this host's only)"),
    Flag("arch", ("--arch",), STR, "Architecture of the image (this host's only)"),
    Flag("variant", ("--variant",), STR, "Architecture variant of the image (this host's only)"),
    Flag("manifest", ("--manifest",), STR, "Add the image to this manifest list (not supported)"),
    Flag("logfile", ("--logfile",), STR, "Write the build's output to this file instead of stdout/stderr"),
    Flag("jobs", ("--jobs",), INT, "Stages to run in parallel (accepted; independent stages may run in parallel anyway)"),
    Flag("isolation", ("--isolation",), STR, "Process isolation: oci (default), chroot or rootless (all run as oci)"),
    Flag("disable_compression", ("--disable-compression", "-D"), BOOL, "Do not compress layers (podpy stores them uncompressed)", True),
    Flag("compress", ("--compress",), BOOL, "Legacy option without effect", False),
    Flag("disable_content_trust", ("--disable-content-trust",), BOOL, "Docker's option: a no-op, as in Podman", False),
    Flag("sign_by", ("--sign-by",), STR, "Sign the image with a GPG key (not supported)"),
    Flag("output", ("--output", "-o"), STR, "Also write the image's filesystem: type=local,dest=DIR, type=tar,dest=FILE, or DIR"),
    Flag("retry", ("--retry",), INT, "Retries of a FROM pull on network errors (default 4)"),
    Flag("retry_delay", ("--retry-delay",), STR, "Delay between pull retries (a duration, e.g. 2s)"),
    Flag("authfile", ("--authfile",), STR, "Path of the authentication file (for FROM pulls)"),
    Flag("creds", ("--creds",), STR, "USERNAME[:PASSWORD] for FROM pulls"),
    Flag("cert_dir", ("--cert-dir",), STR, "Certificates directory for FROM pulls"),
    Flag("tls_verify", ("--tls-verify",), STR, "Require HTTPS and verify certificates for FROM pulls (true|false)"),
    Flag("decryption_key", ("--decryption-key",), LIST, "Private key (FILE[:PASSWORD]) to decrypt encrypted layers of pulled images"),
    Flag("os_feature", ("--os-feature",), LIST, "Add a required OS feature to the image (FEATURE- removes one)"),
    Flag("os_version", ("--os-version",), STR, "Set the image's required OS version"),
    Flag("cpp_flag", ("--cpp-flag",), LIST, "Flag for cpp, which preprocesses a Containerfile named *.in"),
    Flag("logsplit", ("--logsplit",), BOOL, "With --logfile: log to LOGFILE_OS_ARCH (one file per platform)", False),
    Flag("all_platforms", ("--all-platforms",), BOOL, "Also build every other platform the base images all offer (only without RUN steps: no emulation)", False),
)  # fmt: skip

EXTRA_FLAGS = (*STEP_FLAGS, *IDMAP_FLAGS, *IMAGE_FLAGS)
BOOL_DECLS = {f.decls[0] for f in EXTRA_FLAGS if f.kind == BOOL}

ISOLATIONS = ("oci", "chroot", "rootless", "default")


def step_options(kw: dict[str, Any]) -> dict[str, Any]:
    """The RUN containers' CreateOptions fields (build_support.STEP_FIELDS) from the flag values."""
    from podpy.cli.run_flags import MORE_FLAGS, NETWORK_FLAGS, RESOURCE_FLAGS

    fields = {f.field for f in STEP_FLAGS}
    out: dict[str, Any] = {
        "cap_add": kw.get("cap_add") or [], "cap_drop": kw.get("cap_drop") or [],
        "devices": kw.get("device") or [], "security_opt": kw.get("security_opt") or [],
        "userns": kw.get("userns") or "", "volumes": kw.get("volume") or [],
        "resources": {f.field: kw.get(f.field) for f in RESOURCE_FLAGS if f.field in fields},
        "net": {f.field: kw.get(f.field) for f in NETWORK_FLAGS if f.field in fields},
        "more": {f.field: kw.get(f.field, f.default) for f in MORE_FLAGS if f.field in fields},
    }  # fmt: skip
    for flag, key in IDMAP_MORE.items():  # committed layers keep the container's ids (container_commit)
        if kw.get(flag):
            out["more"][key] = [kw[flag]] if key.endswith("map") else kw[flag]
    if any(kw.get(flag) for flag in IDMAP_MORE):
        from podpy.engine import idmaps

        if kw.get("userns"):
            raise InvalidArgument("--userns and --userns-uid-map/--userns-gid-map are mutually exclusive")
        if os.geteuid() != 0:
            raise InvalidArgument("--userns-uid-map/--userns-gid-map are not supported rootless by podpy: "
                                  "RUN steps use the user's own mapping (/etc/subuid)")  # fmt: skip
        idmaps.from_flags(out["more"])  # bad maps fail before the build starts
    return {k: v for k, v in out.items() if v not in ("", [], {})}
