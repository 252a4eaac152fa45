"""Compose: loader → model (+ config hash) → planner (pure, printable) → executor (not here yet).

    project = loader.load_project(loader.LoadOptions(files=..., profiles=..., services=...))
    plan = planner.plan_up(project, observed.Observed(...), planner.UpOptions(...))
    print(plan.render())                      # --dry-run
    for action in plan.actions: ...           # the executor, through the engine

- `model.Project`: name, working_dir, config_files, services (`model.Service`: `config` is the normalised
  long-syntax mapping, plus typed `ports`, `mounts`, `networks`, `depends_on`, `secrets`, `configs`,
  `image`, `scale`, `config_hash`), networks/volumes/secrets/configs (`model.Resource`, `name` is the
  engine-side name), `service_order()`.
- `hashing`: label names, `container_labels()`, `resource_labels()`, `container_name()`.
- `observed`: the records an executor fills from the engine (containers, networks, volumes by label).
- `plan`: `Action` kinds and `Wait` (depends_on conditions to satisfy before a START).
- `config_output`: `compose config` renderings.
Every error is a `errors.ComposeError` (a PodpyError: one `Error: ...` line, exit 125).
"""
