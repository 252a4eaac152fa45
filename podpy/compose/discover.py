"""Which compose files, which project directory, which `.env`, which project name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from podpy.compose.dotenv import read_env_file
from podpy.compose.errors import ComposeError, ComposeFileNotFound

CANDIDATES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
STDIN = "-"


def find_compose_files(cwd: Path, warnings: list[str]) -> list[Path]:
    """The first directory from `cwd` upwards holding a compose file: that file plus its override."""
    for directory in (cwd, *cwd.parents):
        found = [directory / name for name in CANDIDATES if (directory / name).is_file()]
        if not found:
            continue
        if len(found) > 1:
            names = ", ".join(str(p) for p in found)
            warnings.append(f"Found multiple config files with supported names: {names}\n"
                            f"Using {found[0]}")
        main = found[0]
        stem = main.name.rsplit(".", 1)[0]
        for ext in ("yaml", "yml"):
            override = directory / f"{stem}.override.{ext}"
            if override.is_file():
                return [main, override]
        return [main]
    raise ComposeFileNotFound("no configuration file provided: not found")


def compose_file_env(value: str, environ: Mapping[str, str], cwd: Path) -> list[Path]:
    """COMPOSE_FILE: paths joined by COMPOSE_PATH_SEPARATOR (default: the OS path separator)."""
    sep = environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    return [cwd / p for p in value.split(sep) if p]


def select_files(files: list[str], environ: Mapping[str, str], cwd: Path,
                 warnings: list[str]) -> list[Path | str]:
    """-f files (STDIN for `-`), else COMPOSE_FILE (environment, then the working dir's .env), else found."""
    if files:
        return [STDIN if f == STDIN else cwd / f for f in files]
    value = environ.get("COMPOSE_FILE")
    if value is None and (cwd / ".env").is_file():
        value = read_env_file(cwd / ".env", environ).get("COMPOSE_FILE")
    if value:
        return list(compose_file_env(value, environ, cwd))
    return list(find_compose_files(cwd, warnings))


def load_dotenv(env_files: list[str], project_dir: Path, cwd: Path,
                environ: Mapping[str, str]) -> tuple[dict[str, str], list[Path]]:
    """Variables of `--env-file` files (later ones win), else of `<project dir>/.env` if present."""
    paths = [cwd / p for p in env_files] if env_files else []
    if not env_files and (project_dir / ".env").is_file():
        paths = [project_dir / ".env"]
    values: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            raise ComposeError(f"couldn't find env file: {path}")
        parsed = read_env_file(path, {**values, **environ})
        values.update({k: v for k, v in parsed.items() if v is not None})
    return values, paths


def normalize_project_name(name: str) -> str:
    """A directory name as Compose turns it into a project name."""
    name = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return name.lstrip("_-")


def check_project_name(name: str) -> str:
    if not _VALID_NAME.match(name):
        raise ComposeError(f'invalid project name "{name}": must consist only of lowercase alphanumeric '
                           f"characters, hyphens, and underscores as well as start with a letter or number")
    return name


def project_name(flag: str | None, env: Mapping[str, str], declared: str | None, project_dir: Path) -> str:
    """`-p`, then COMPOSE_PROJECT_NAME, then the top-level `name:`, then the directory's name."""
    for candidate in (flag, env.get("COMPOSE_PROJECT_NAME"), declared):
        if candidate:
            return check_project_name(candidate)
    name = normalize_project_name(project_dir.resolve().name)
    if not name:
        raise ComposeError(f"project name must not be empty: directory {project_dir} gives none; use -p")
    return name
