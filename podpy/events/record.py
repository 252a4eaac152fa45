"""One event as Podman's file logger writes it: a JSON object per line with Podman's field names.

{"ID":"…","Image":"localhost/busybox:latest","Name":"c1","Status":"create",
 "Time":"2026-12-04T19:09:04.646445739Z","Type":"container","Attributes":{"app":"x"}}
"""

from __future__ import annotations

import json
import time

TYPE_CHECKING = False  # typing's, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# Podman's event types and the statuses podpy writes (libpod/events).
TYPES = ("container", "image", "volume", "network", "pod", "system")
STATUSES = (
    "attach", "build", "checkpoint", "cleanup", "commit", "create", "died", "exec", "exec_died", "export",
    "health_status", "import", "init", "kill", "loadfromarchive", "mount", "connect", "disconnect", "pause", "prune", "pull", "push", "refresh", "remove",
    "rename", "restart", "restore", "log-rotation", "save", "start", "stop", "sync", "tag", "unmount", "unpause",
    "untag",
)  # fmt: skip


class Event:
    """One event. A plain class, not a dataclass: building a dataclass costs ~0.7 ms at import, and
    this module is imported by every `run`."""

    __slots__ = ("type", "status", "id", "name", "image", "time", "attributes", "exit_code", "network",
                 "health_status", "pod_id")  # fmt: skip

    def __init__(self, type: str, status: str, id: str = "", name: str = "", image: str = "", time: str = "",
                 attributes: dict[str, str] | None = None, exit_code: int | None = None, network: str = "",
                 health_status: str = "", pod_id: str = "") -> None:  # fmt: skip
        self.type, self.status, self.id, self.name, self.image = type, status, id, name, image
        self.time = time  # RFC 3339 with nanoseconds, UTC ("…Z")
        self.attributes = attributes or {}
        self.exit_code = exit_code  # ContainerExitCode: died and exec_died
        self.network = network  # the network's name in a network event
        self.health_status, self.pod_id = health_status, pod_id

    def __repr__(self) -> str:
        return f"Event({self.type} {self.status} {self.id or self.name})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self.to_json() == other.to_json()

    def to_json(self) -> dict[str, Any]:
        """Podman's JSON (json.Marshal of libpod/events.Event: empty fields left out)."""
        doc: dict[str, Any] = {}
        if self.exit_code:  # Podman's `json:",omitempty"`: a died event with 0 has none
            doc["ContainerExitCode"] = self.exit_code
        for key, value in (
            ("ID", self.id),
            ("Image", self.image),
            ("Name", self.name),
            ("network", self.network),
        ):
            if value:
                doc[key] = value
        doc["Status"], doc["Time"], doc["Type"] = self.status, self.time, self.type
        if self.health_status:
            doc["health_status"] = self.health_status
        if self.pod_id:
            doc["PodID"] = self.pod_id
        doc["Attributes"] = self.attributes or None
        return doc

    def line(self) -> bytes:
        return (
            json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False).encode(
                errors="backslashreplace"
            )
            + b"\n"
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Event:
        code = doc.get("ContainerExitCode")
        return cls(
            type=str(doc.get("Type") or ""), status=str(doc.get("Status") or ""), id=str(doc.get("ID") or ""),
            name=str(doc.get("Name") or ""), image=str(doc.get("Image") or ""), time=str(doc.get("Time") or ""),
            attributes={str(k): str(v) for k, v in (doc.get("Attributes") or {}).items()},
            exit_code=code if isinstance(code, int) else None, network=str(doc.get("network") or ""),
            health_status=str(doc.get("health_status") or ""), pod_id=str(doc.get("PodID") or ""),
        )  # fmt: skip

    # ---- what `events` prints
    def human(self, truncate: bool = False) -> str:
        """Podman 4.3's text line (libpod/events ToHumanReadable)."""
        ident = self.id[:12] if truncate else self.id
        head = f"{go_time(self.time)} {self.type} {self.status}"
        if self.type in ("container", "pod"):
            extra = "".join(f", {k}={v}" for k, v in self.attributes.items())
            pod = f", pod_id={self.pod_id}" if self.pod_id else ""
            health = f", health_status={self.health_status}" if self.health_status else ""
            return f"{head} {ident} (image={self.image}, name={self.name}{pod}{health}{extra})"
        if self.type == "network":
            if self.status in ("create", "remove"):
                return (
                    f"{head} {self.id} (name={self.network}, type={self.attributes.get('driver', 'bridge')})"
                )
            return f"{head} {ident} (container={ident}, name={self.network})"
        if self.type == "image":
            return f"{head} {ident} {self.name}"
        if self.type == "system" and not self.name:
            return head
        return f"{head} {self.name}"

    def template_view(self) -> dict[str, Any]:
        """The fields a `--format` template sees (Podman's Event struct, Time as Go prints it; Docker's
        spellings too)."""
        view = {k: v for k, v in self.to_json().items() if k[:1].isupper()}
        view.update(Time=go_time(self.time), Attributes=dict(self.attributes))
        view.setdefault("ContainerExitCode", self.exit_code or 0)
        for key in ("ID", "Image", "Name"):
            view.setdefault(key, "")
        view.update({"Network": self.network, "HealthStatus": self.health_status, "PodID": self.pod_id,
                     "Action": self.status, "Actor": {"ID": self.id, "Attributes": self.attributes},
                     "TimeNano": epoch_ns(self.time), "Id": self.id, "From": self.image})  # fmt: skip
        return view

    @property
    def ns(self) -> int:
        return epoch_ns(self.time)


def now() -> str:
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def epoch_ns(ts: str) -> int:
    """`2026-12-04T19:09:04.646445739Z` → nanoseconds since the epoch (0 when unparsable)."""
    import calendar

    try:
        head, _, frac = ts.rstrip("Z").partition(".")
        secs = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0
    digits = "".join(c for c in frac if c.isdigit())[:9]
    return secs * 1_000_000_000 + int(digits.ljust(9, "0") or 0)


def go_time(ts: str) -> str:
    """Go's `2006-01-02 15:04:05.999999999 -0700 MST` (trailing zeros of the fraction dropped)."""
    ns = epoch_ns(ts)
    secs, frac = divmod(ns, 1_000_000_000)
    tm = time.localtime(secs)
    off = tm.tm_gmtoff or 0
    sign = "-" if off < 0 else "+"
    zone = f"{sign}{abs(off) // 3600:02d}{abs(off) % 3600 // 60:02d} {tm.tm_zone or 'UTC'}"
    fraction = f".{frac:09d}".rstrip("0") if frac else ""
    return time.strftime("%Y-%m-%d %H:%M:%S", tm) + fraction + " " + zone
