"""Interpolation and .env parsing as the Compose Specification defines them."""

from __future__ import annotations

import pytest

from podpy.compose.dotenv import parse_dotenv
from podpy.compose.errors import ComposeError
from podpy.compose.interpolate import Interpolator, interpolate_string, interpolate_tree

ENV = {"SET": "value", "EMPTY": "", "OTHER": "other"}


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "plain"),
    ("$SET", "value"),
    ("${SET}", "value"),
    ("a${SET}b$SET.c", "avaluebvalue.c"),
    ("$$SET", "$SET"),
    ("$${SET}", "${SET}"),
    ("${UNSET:-dflt}", "dflt"),
    ("${EMPTY:-dflt}", "dflt"),
    ("${EMPTY-dflt}", ""),
    ("${UNSET-dflt}", "dflt"),
    ("${SET:-dflt}", "value"),
    ("${SET:+repl}", "repl"),
    ("${EMPTY:+repl}", ""),
    ("${EMPTY+repl}", "repl"),
    ("${UNSET+repl}", ""),
    ("${UNSET:-${OTHER}}", "other"),
    ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
    ("${UNSET:-a-${SET}-b}", "a-value-b"),
    ("${SET:?unused}", "value"),
    ("${EMPTY?fine when set}", ""),
    ("${SET:-${UNSET:?not evaluated}}", "value"),
    ("${UNSET:-with spaces and : colons}", "with spaces and : colons"),
    ("$UNSET", ""),
    ("${SET}${SET}", "valuevalue"),
    ("price: $$5", "price: $5"),
    ("lone $ sign", "lone $ sign"),
    ("end$", "end$"),
    ("$5 and $-", "$5 and $-"),
])
def test_substitute(text: str, expected: str) -> None:
    assert Interpolator(ENV).substitute(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("${UNSET:?must be set}", "required variable UNSET is missing a value: must be set"),
    ("${EMPTY:?no empty}", "required variable EMPTY is missing a value: no empty"),
    ("${UNSET?gone ${SET}}", "required variable UNSET is missing a value: gone value"),
])
def test_required_errors(text: str, message: str) -> None:
    with pytest.raises(ComposeError, match="error while interpolating services.x.image: " + message):
        interpolate_string(text, Interpolator(ENV), "services.x.image")


@pytest.mark.parametrize("text", ["${", "${SET", "${}", "${ SET}", "${SET:x}", "${9}", "${SET!}"])
def test_invalid_format(text: str) -> None:
    with pytest.raises(ComposeError, match="invalid interpolation format for p"):
        interpolate_string(text, Interpolator(ENV), "p")


def test_unset_warns_once_and_keys_are_not_interpolated() -> None:
    warnings: list[str] = []
    tree = {"$SET": ["$NOPE", {"k": "${NOPE}"}], "n": 3}
    out = interpolate_tree(tree, Interpolator(ENV, warnings.append))
    assert out == {"$SET": ["", {"k": ""}], "n": 3}
    assert warnings == ['The "NOPE" variable is not set. Defaulting to a blank string.']


def test_dotenv_syntax() -> None:
    text = (
        "# comment\n\nA=1\nexport B=two\nC = spaced # trailing comment\nD='single $A #not comment'\n"
        'E="double ${A}\\nnewline"\nF="multi\nline"\nG=${A}-${B}-${HOST}\nH=\nI\nJ=a#b\n'
    )
    env = parse_dotenv(text, ".env", {"HOST": "h", "I": "from-env"})
    assert env == {"A": "1", "B": "two", "C": "spaced", "D": "single $A #not comment",
                   "E": "double 1\nnewline", "F": "multi\nline", "G": "1-two-h", "H": "", "I": "from-env",
                   "J": "a#b"}


def test_dotenv_raw_and_errors() -> None:
    assert parse_dotenv("A=$X 'q' # c\n", "f", {}, raw=True) == {"A": "$X 'q' # c"}
    assert parse_dotenv("A: colon\n", "f") == {"A": "colon"}
    with pytest.raises(ComposeError, match="line 2"):
        parse_dotenv("A=1\n-bad=2\n", "f")
    with pytest.raises(ComposeError, match="unterminated"):
        parse_dotenv('A="open\n', "f")
