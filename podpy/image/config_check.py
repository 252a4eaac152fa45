"""Type checks for an image config (OCI image-spec `config.json`, Docker's image JSON).

Podman decodes a config into typed Go structs and refuses one whose fields have the wrong JSON types
(`Cmd` as a string, `Env` as an object). podpy reads the JSON as plain data, so it checks the types
once, here, and every user of a config gets one clear error instead of a traceback deep inside.
"""

from __future__ import annotations

from podpy.errors import PodpyError

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


class InvalidImageConfig(PodpyError):
    pass


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _object(v: Any) -> bool:
    return isinstance(v, dict)


def _string(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _healthcheck(v: Any) -> bool:
    return isinstance(v, dict) and (v.get("Test") is None or _str_list(v.get("Test")))


# field -> (check, what it must be); null is always accepted (Go leaves the zero value)
CONFIG_FIELDS: dict[str, tuple[Any, str]] = {
    "Cmd": (_str_list, "an array of strings"),
    "Entrypoint": (_str_list, "an array of strings"),
    "Shell": (_str_list, "an array of strings"),
    "Env": (_str_list, "an array of strings"),
    "OnBuild": (_str_list, "an array of strings"),
    "Labels": (_str_map, "an object of strings"),
    "ExposedPorts": (_object, "an object"),
    "Volumes": (_object, "an object"),
    "WorkingDir": (_string, "a string"),
    "User": (_string, "a string"),
    "StopSignal": (_string, "a string"),
    "Hostname": (_string, "a string"),
    "Domainname": (_string, "a string"),
    "Image": (_string, "a string"),
    "ArgsEscaped": (_bool, "a boolean"),
    "Tty": (_bool, "a boolean"),
    "OpenStdin": (_bool, "a boolean"),
    "Healthcheck": (_healthcheck, "an object with Test as an array of strings"),
}
TOP_FIELDS: dict[str, tuple[Any, str]] = {
    "architecture": (_string, "a string"),
    "os": (_string, "a string"),
    "variant": (_string, "a string"),
    "created": (_string, "a string"),
    "author": (_string, "a string"),
    "history": (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v), "an array of objects"),
}


def check(doc: Any, what: str = "image config") -> dict[str, Any]:
    """`doc` itself when every known field has its JSON type; InvalidImageConfig naming the first bad one."""
    if not isinstance(doc, dict):
        raise InvalidImageConfig(f"{what}: not a JSON object but {_json_type(doc)}")
    for key, (ok, want) in TOP_FIELDS.items():
        v = doc.get(key)
        if v is not None and not ok(v):
            raise InvalidImageConfig(f"{what}: field {key!r} must be {want}, not {_json_type(v)}")
    rootfs = doc.get("rootfs")
    if rootfs is not None and not (isinstance(rootfs, dict) and _str_list(rootfs.get("diff_ids") or [])):
        raise InvalidImageConfig(f"{what}: field 'rootfs' must be an object with diff_ids as an array of strings")
    cfg = doc.get("config")
    if cfg is None:
        return doc
    if not isinstance(cfg, dict):
        raise InvalidImageConfig(f"{what}: field 'config' must be an object, not {_json_type(cfg)}")
    for key, (ok, want) in CONFIG_FIELDS.items():
        v = cfg.get(key)
        if v is not None and not ok(v):
            raise InvalidImageConfig(f"{what}: field 'config.{key}' must be {want}, not {_json_type(v)}")
    return doc
