"""Dockerfile builds, the front half: parse → typed instructions and stages → expansion → cache keys.

How an executor uses it (nothing here runs a container or touches the store):
  df = parser.parse_file(path)                       # or parser.parse(text, name); BuildError on bad input
  plan = plan.make_plan(df, build_args, target)      # stages, deps, plan.needed / plan.levels() to schedule
  for each stage in plan.needed (waves in plan.levels() may run concurrently):
      base config: imageconfig.scratch_config() or the pulled image's, or a built stage's result
      sc = imageconfig.StageConfig.from_base(base); scope = expand.StageScope(plan, sc.config.get("Env"),
           sc.config.get("WorkingDir", ""), sc.config.get("Shell"))
      instructions = instructions_parse.parse_triggers(sc.triggers) + stage.instructions
      parent = base image ID
      for raw in instructions:
          inst = scope.expand(raw)                   # variables substituted, scope updated
          content = cachekey.content_digest(context, inst, ignore, memo) for a local COPY/ADD
                                                     # (memo: digestmemo.DigestMemo, stat-keyed file digests)
          key = cachekey.step_key(parent, inst, scope, content=..., sources={ref: image ID})
          hit → reuse the layer; miss → RUN history.run_args(inst, scope) with scope.run_env() and
          scope.mounts(inst), or copy copysources.resolve_sources(...) into the rootfs
          sc.apply(inst, scope); sc.add_layer(diff_id) for RUN/COPY/ADD; parent = key.digest()
Context filtering: dockerignore.load_matcher(context, dockerfile) and dockerignore.walk_context.

The back half (the executor above, through engine.build_support):
  frontend.run_build   context (dir, tar on stdin, tar URL), Dockerfile, plan, executor, labels, tags
  executor.Executor    stages in waves (waves.run_wave forks one child per extra stage), steps, cache
  cache.BuildCache     key digest → step image (every step is an image, as Podman's --layers)
  digestmemo           context file digests remembered across builds (a cached rebuild reads no file)
  filesteps/copystep   COPY/ADD/WORKDIR into a step container's root; runmounts for RUN --mount
"""
