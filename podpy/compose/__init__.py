"""Compose: loader → model (+ config hash) → observe → planner (pure, printable) → executor.

    project = loader.load_project(loader.LoadOptions(files=..., profiles=..., services=...))
    plan = planner.plan_up(project, observed.Observed(...), planner.UpOptions(...))
    print(plan.render())                      # --dry-run
    executor.Executor(engine, project, observed, report).run(plan)   # through the engine's services
    project_ops.up(engine, project, project_ops.UpRequest(...), report)   # images + observe + plan + run

- `model.Project`: name, working_dir, config_files, services (`model.Service`: `config` is the normalised
  long-syntax mapping, plus typed `ports`, `mounts`, `networks`, `depends_on`, `secrets`, `configs`,
  `image`, `scale`, `config_hash`), networks/volumes/secrets/configs (`model.Resource`, `name` is the
  engine-side name), `service_order()`.
- `hashing`: label names, `container_labels()`, `resource_labels()`, `container_name()`.
- `observed`: the records an executor fills from the engine (containers, networks, volumes by label).
- `plan`: `Action` kinds and `Wait` (depends_on conditions to satisfy before a START).
- `config_output`: `compose config` renderings.
- `observe`: `Observed` filled from the engine (containers, networks, volumes by label).
- `service_options`: a service → the engine's CreateOptions (+ networks to connect, unsupported-field warnings).
- `executor`: each Action through the engine; depends_on waits (started, healthy, completed successfully).
- `project_ops`: image resolution (pull_policy; `build:` through `build`, podpy's builder in process), up, down, start/stop/restart/rm.
Every error is a `errors.ComposeError` (a PodpyError: one `Error: ...` line, exit 125).
"""
