"""Pure parts of health checks and restart policies: flags, merge with the image, Docker's state
machine, durations, restart decisions and back-off."""

from __future__ import annotations

import pytest

from podpy.engine.container_config import CreateOptions
from podpy.engine.container_health import NS, healthcheck_config, parse_duration, probe_argv
from podpy.errors import InvalidArgument
from podpy.supervisor.health import ProbeResult, apply_result, go_duration
from podpy.supervisor.restart import RestartPolicy, next_delay, parse_policy, should_restart


def opts(**kw: object) -> CreateOptions:
    return CreateOptions(image="busybox", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "ns"), [
    ("1s", NS), ("500ms", NS // 2), ("1m30s", 90 * NS), ("1h", 3600 * NS), ("0", 0), ("1.5s", 3 * NS // 2),
    ("2us", 2000), ("2µs", 2000), ("10ns", 10), ("1h2m3s4ms", (3723 * 1000 + 4) * 1_000_000), ("-1s", -NS),
])  # fmt: skip
def test_go_durations(text: str, ns: int) -> None:
    assert parse_duration(text, "--health-interval") == ns


@pytest.mark.parametrize("text", ["", "1", "1x", "s", "1s2", "abc", ".s", "1 s"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_duration(text, "--health-timeout")
    assert str(e.value) == f'invalid argument "{text}" for "--health-timeout" flag: time: invalid duration "{text}"'


@pytest.mark.parametrize(("seconds", "text"), [
    (1, "1s"), (0.5, "500ms"), (90, "1m30s"), (3600, "1h0m0s"), (0, "0s"), (1.5, "1.5s"), (30, "30s"),
])  # fmt: skip
def test_go_duration_strings(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_health_flags_to_config() -> None:
    assert healthcheck_config(opts(), {}) is None
    conf = healthcheck_config(opts(health_cmd="test -f /ok", health_interval="1s", health_retries=2), {})
    assert conf == {"Test": ["CMD-SHELL", "test -f /ok"], "Interval": NS, "Retries": 2}
    conf = healthcheck_config(opts(health_cmd='["test", "-f", "/ok"]', health_start_period="1m"), {})
    assert conf == {"Test": ["CMD", "test", "-f", "/ok"], "StartPeriod": 60 * NS}
    assert healthcheck_config(opts(health_cmd='["CMD-SHELL", "exit 0"]'), {}) == {"Test": ["CMD-SHELL", "exit 0"]}
    assert healthcheck_config(opts(no_healthcheck=True), {"Healthcheck": {"Test": ["CMD", "x"]}}) == {"Test": ["NONE"]}
    assert healthcheck_config(opts(health_cmd="none"), {}) == {"Test": ["NONE"]}


@pytest.mark.parametrize(("kw", "message"), [
    ({"no_healthcheck": True, "health_cmd": "true"}, "--no-healthcheck conflicts with --health-* options"),
    ({"health_interval": "-1s"}, "--health-interval cannot be negative"),
    ({"health_start_period": "-2s"}, "--health-start-period cannot be negative"),
    ({"health_retries": -1}, "--health-retries cannot be negative"),
    ({"health_timeout": "10us"}, "Timeout in Healthcheck cannot be less than 1ms"),
    ({"health_cmd": "[1, 2]"}, "invalid --health-cmd '[1, 2]': a JSON array of strings"),
])  # fmt: skip
def test_health_flag_errors(kw: dict, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        healthcheck_config(opts(**kw), {})
    assert str(e.value) == message


def test_image_healthcheck_and_docker_merge() -> None:
    image = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 5 * NS, "Retries": 4}}
    assert healthcheck_config(opts(), image) == image["Healthcheck"]
    # flags override what they set, the rest comes from the image
    merged = healthcheck_config(opts(health_interval="1s", health_timeout="2s"), image)
    assert merged == {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": NS, "Timeout": 2 * NS, "Retries": 4}
    merged = healthcheck_config(opts(health_cmd="true"), image)
    assert merged == {"Test": ["CMD-SHELL", "true"], "Interval": 5 * NS, "Retries": 4}


def test_probe_argv() -> None:
    assert probe_argv(["CMD-SHELL", "test -f /ok"]) == ("/bin/sh", "-c", "test -f /ok")
    assert probe_argv(["CMD", "test", "-f", "/ok"]) == ("test", "-f", "/ok")
    for none in (None, [], ["NONE"], ["CMD"], ["WHAT", "x"]):
        assert probe_argv(none) is None


def _result(code: int) -> ProbeResult:
    return ProbeResult("s", "e", code, f"out{code}")


def test_docker_health_state_machine() -> None:
    doc: dict = {}
    doc = apply_result(doc, _result(1), retries=2, in_start_period=False)
    assert (doc["Status"], doc["FailingStreak"]) == ("starting", 1)
    doc = apply_result(doc, _result(1), retries=2, in_start_period=False)
    assert (doc["Status"], doc["FailingStreak"]) == ("unhealthy", 2)
    doc = apply_result(doc, _result(0), retries=2, in_start_period=False)
    assert (doc["Status"], doc["FailingStreak"]) == ("healthy", 0)
    doc = apply_result(doc, _result(2), retries=2, in_start_period=True)  # start period: only while starting
    assert (doc["Status"], doc["FailingStreak"]) == ("healthy", 1)
    assert doc["Log"][-1] == {"Start": "s", "End": "e", "ExitCode": 2, "Output": "out2"}


def test_start_period_failures_do_not_count_and_log_keeps_five() -> None:
    doc: dict = {}
    for _ in range(7):
        doc = apply_result(doc, _result(1), retries=1, in_start_period=True)
    assert (doc["Status"], doc["FailingStreak"]) == ("starting", 0)
    assert len(doc["Log"]) == 5


def test_restart_policies_parse_like_docker() -> None:
    assert parse_policy("") == RestartPolicy("no")
    assert parse_policy(None) == RestartPolicy("no")
    assert parse_policy("on-failure:3") == RestartPolicy("on-failure", 3)
    assert str(parse_policy("on-failure:3")) == "on-failure:3"
    assert parse_policy("unless-stopped") == RestartPolicy("unless-stopped")
    errors = {
        "bogus": "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or "
                 "'unless-stopped'",
        "always:2": "invalid restart policy: maximum retry count can only be used with 'on-failure'",
        "on-failure:x": "invalid restart policy format: maximum retry count must be an integer",
        "on-failure:-1": "invalid restart policy: maximum retry count cannot be negative",
        ":3": "invalid restart policy format: no policy provided before colon",
    }  # fmt: skip
    for text, message in errors.items():
        with pytest.raises(InvalidArgument) as e:
            parse_policy(text)
        assert str(e.value) == message


def test_restart_decisions() -> None:
    always, unless, on2, on0 = (parse_policy(x) for x in ("always", "unless-stopped", "on-failure:2", "on-failure"))
    assert should_restart(always, 0, 10, manually_stopped=True, canceled=False)
    assert not should_restart(always, 0, 0, manually_stopped=True, canceled=True)  # stop wins
    assert should_restart(unless, 0, 0, manually_stopped=False, canceled=False)
    assert not should_restart(unless, 9, 0, manually_stopped=True, canceled=False)  # killed by the user
    assert should_restart(on2, 1, 1, False, False) and not should_restart(on2, 1, 2, False, False)
    assert not should_restart(on2, 0, 0, False, False)
    assert should_restart(on0, 1, 1000, True, False)  # 0: no maximum; a user kill still restarts (Docker)
    assert not should_restart(parse_policy("no"), 1, 0, False, False)


def test_backoff_doubles_and_resets() -> None:
    delays, d = [], 0.0
    for _ in range(12):
        d = next_delay(d, ran_for=0.5)
        delays.append(d)
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert delays[-1] == 60.0
    assert next_delay(60.0, ran_for=10.0) == 0.1
