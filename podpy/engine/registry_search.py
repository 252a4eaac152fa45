"""`search`: Docker Hub's /v1/search where a registry has it, else its /v2/_catalog filtered by the term.

`HOST/TERM` searches one registry (`HOST/` lists its whole catalog); a bare TERM searches every
unqualified-search registry of registries.conf.
"""

from __future__ import annotations

from typing import Any

from podpy.engine.registry_session import RegistryOptions, Sessions
from podpy.errors import InvalidArgument, RegistryError, RegistryNotFound
from podpy.image import reference
from podpy.registry import regconf
from podpy.registry.client import Repository, next_link
from podpy.registry.transport import Transport


def _targets(term: str, sessions: Sessions) -> list[tuple[str, str]]:
    """(registry, query) pairs for `term`."""
    if not regconf.is_short_name(term):
        registry, _, query = term.partition("/")
        return [(registry, query)]
    if not sessions.conf.search:
        raise InvalidArgument("no unqualified-search registries are configured: search HOST/TERM")
    return [(r, term) for r in sessions.conf.search]


def parse_search_filters(filters: list[str]) -> dict[str, Any]:
    """Podman's search filters: stars=N (at least N), is-official=BOOL, is-automated=BOOL."""
    out: dict[str, Any] = {}
    for f in filters:
        key, eq, value = f.partition("=")
        if not eq:
            raise InvalidArgument(f"invalid filter {f!r}, should be of form filter=value")
        if key == "stars":
            if not value.isdigit():
                raise InvalidArgument(f"incorrect value type for stars filter: {value!r}")
            out[key] = int(value)
        elif key in ("is-official", "is-automated"):
            if value.lower() not in ("true", "false"):
                raise InvalidArgument(f"invalid filter {key} value {value!r}: true or false")
            out[key] = value.lower() == "true"
        else:
            raise InvalidArgument(f"invalid filter type {key!r}")
    return out


def _keep(row: dict[str, Any], f: dict[str, Any]) -> bool:
    return (row["Stars"] >= f.get("stars", 0)
            and f.get("is-official", row["Official"] == "[OK]") == (row["Official"] == "[OK]")
            and f.get("is-automated", row["Automated"] == "[OK]") == (row["Automated"] == "[OK]"))  # fmt: skip


def search(term: str, limit: int = 25, opts: RegistryOptions | None = None,
           list_tags: bool = False, filters: list[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Result rows (Index, Name, Description, Stars, Official, Automated, Tag) for the CLI."""
    if limit <= 0:
        raise InvalidArgument("limit must be greater than 0")
    f = parse_search_filters(filters or [])
    if f and list_tags:
        raise InvalidArgument("filters are not applicable to list tags result")
    with Sessions(opts or RegistryOptions()) as sessions:
        if list_tags:
            return _tags(term, limit, sessions)
        rows: list[dict[str, Any]] = []
        failures: list[str] = []
        for registry, query in _targets(term, sessions):
            try:
                # Docker Hub answers searches on its index host, not on the registry API host
                t = sessions.transport("index.docker.io" if registry == reference.DEFAULT_REGISTRY else registry)
                rows += [{**r, "Index": registry, "Name": r["Name"].replace(t.registry, registry, 1)}
                         for r in _search_one(t, query, limit)]  # fmt: skip
            except RegistryError as e:
                failures.append(str(e))
        if failures and not rows:
            raise RegistryError("; ".join(failures))
        return [r for r in rows if _keep(r, f)]


def _row(registry: str, name: str, desc: str = "", stars: int = 0, official: bool = False,
         automated: bool = False) -> dict[str, Any]:  # fmt: skip
    return {"Index": registry, "Name": f"{registry}/{name}", "Description": desc, "Stars": stars,
            "Official": "[OK]" if official else "", "Automated": "[OK]" if automated else "", "Tag": ""}  # fmt: skip


def _search_one(t: Transport, query: str, limit: int) -> list[dict[str, Any]]:
    if query:
        resp = t.request("GET", "/v1/search", params={"q": query, "n": limit})
        if resp.status_code == 200:
            try:
                results = resp.json().get("results") or []
            except ValueError:
                results = []
            return [_row(t.registry, r.get("name", ""), r.get("description") or "", int(r.get("star_count") or 0),
                         bool(r.get("is_official")), bool(r.get("is_automated"))) for r in results[:limit]]  # fmt: skip
        resp.close()
    return _catalog(t, query, limit)


def _catalog(t: Transport, query: str, limit: int) -> list[dict[str, Any]]:
    names: list[str] = []
    url: str | None = "/v2/_catalog?n=1000"
    while url and len(names) < limit:
        resp = t.request("GET", url, scope="registry:catalog:*")
        if resp.status_code in (404, 405):
            resp.close()
            raise RegistryNotFound(f"{t.registry} does not support searching (no /v1/search or /v2/_catalog API)")
        if resp.status_code != 200:
            t.fail(resp, "searching the catalog of")
        names += [n for n in resp.json().get("repositories") or [] if query.lower() in n.lower()]
        url = next_link(resp)
    return [_row(t.registry, n) for n in names[:limit]]


def _tags(term: str, limit: int, sessions: Sessions) -> list[dict[str, Any]]:
    ref = reference.parse(term if not regconf.is_short_name(term) else regconf.candidates(term, sessions.conf)[0].name)
    if ref.digest or (ref.tag and ref.tag != reference.DEFAULT_TAG and f":{ref.tag}" in term):
        raise InvalidArgument(f"reference {term!r} must not have a tag for --list-tags")
    repo = Repository(sessions.transport(ref.registry, ref.repository), ref.repository)
    return [{**_row(ref.registry, ref.repository), "Tag": tag} for tag in repo.tags()[:limit]]
