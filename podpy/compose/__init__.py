"""Compose: loader → model (+ config hash) → planner (pure, printable); the executor consumes the plan.

Public entry points: `loader.load_project(LoadOptions)`, `planner.plan_up(...)`/`plan_down(...)`,
`render.render_plan(...)`, `config_output.render_config(...)`.
"""
