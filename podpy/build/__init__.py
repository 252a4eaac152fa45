"""Dockerfile builds: parser → typed instructions and stages → expansion → explicit cache keys.

Public entry points: `parser.parse` (text → nodes), `instructions.parse_instruction` (node → typed
instruction), `plan.make_plan` (nodes → stages, dependencies, what `--target` needs),
`expand.Expander` (per-stage variable scoping), `dockerignore` (context filtering), `cachekey`.
"""
