"""BuildKit's shell-word lexer: expansion, quoting, escapes, word splitting, errors."""

from __future__ import annotations

import pytest

from podpy.build.errors import ShellSyntaxError
from podpy.build.shell_lex import ShellLex

ENV = {"A": "hello world", "E": "", "P": "/usr/local/bin/x.tar.gz", "N": "5"}
LEX = ShellLex()


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$A", "hello world"),
        ("${A}", "hello world"),
        ("pre${N}post", "pre5post"),
        ("$Nx", ""),
        ("${U}", ""),
        ("${U:-d}", "d"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("${U-d}", "d"),
        ("${N:+alt}", "alt"),
        ("${E:+alt}", ""),
        ("${E+alt}", "alt"),
        ("${U+alt}", ""),
        ("${U:-$N}", "5"),
        ("${U:-${N}0}", "50"),
        ("${P#*/}", "usr/local/bin/x.tar.gz"),
        ("${P##*/}", "x.tar.gz"),
        ("${P%.*}", "/usr/local/bin/x.tar"),
        ("${P%%.*}", "/usr/local/bin/x"),
        ("${P/l/L}", "/usr/Local/bin/x.tar.gz"),
        ("${P//l/L}", "/usr/LocaL/bin/x.tar.gz"),
        ("${P/#\\/usr/}", "/usr/local/bin/x.tar.gz"),
        ("${P#nomatch}", "/usr/local/bin/x.tar.gz"),
        ("${P##*[.]}", "gz"),
        ("${P%%[!/]*}", "/"),
        ("'$A'", "$A"),
        ('"$A"', "hello world"),
        ('"\\$A"', "$A"),
        ("\\$A", "$A"),
        ('"a\\b"', "a\\b"),
        ('"a\\"b"', 'a"b'),
        ("a\\ b", "a b"),
        ("$", "$"),
        ("a$", "a$"),
        ("$1", ""),
        ("$12x", "x"),
        ("${N}${N}", "55"),
        ("trail\\", "trail"),
        ("'it''s'", "its"),
        ("\"a'b\"", "a'b"),
    ],
)
def test_process_word(word: str, expected: str) -> None:
    assert LEX.process_word(word, ENV) == expected


@pytest.mark.parametrize(
    ("word", "words"),
    [
        ("$A", ["hello", "world"]),
        ('"$A"', ["hello world"]),
        ("a  b\tc", ["a", "b", "c"]),
        ("'a b' c", ["a b", "c"]),
        ("a\\ b c", ["a b", "c"]),
        ('""', []),
        ("x${E}y", ["xy"]),
    ],
)
def test_process_words(word: str, words: list[str]) -> None:
    assert LEX.process_words(word, ENV) == words


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${}", "bad substitution"),
        ("${:-x}", "bad substitution"),
        ("${{A}", "bad substitution"),
        ("${A", "missing '}'"),
        ("${A:-x", "missing '}'"),
        ("${A/x", "missing '/'"),
        ("${A:#x}", "unsupported modifier (:#)"),
        ("${A=x}", "unsupported modifier (=)"),
        ("'open", "single-quote"),
        ('"open', "double-quote"),
        ("${U?}", "U: is not allowed to be unset"),
        ("${E:?}", "E: is not allowed to be empty"),
        ("${U?custom}", "U: custom"),
    ],
)
def test_errors(word: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LEX.process_word(word, ENV)


def test_backtick_escape() -> None:
    lex = ShellLex(escape="`")
    assert lex.process_word("`$A", ENV) == "$A"
    assert lex.process_word("C:\\dir\\$N", ENV) == "C:\\dir\\5"
    assert lex.process_word('"`"q"', ENV) == '"q'


def test_skip_unset_keeps_text() -> None:
    lex = ShellLex(skip_unset=True)
    assert lex.process_word("$U ${U} ${U:-x} ${U/a/b} $N", ENV) == "$U ${U} ${U:-x} ${U/a/b} 5"


def test_raw_quotes_and_escapes() -> None:
    assert ShellLex(raw_quotes=True).process_word("'a' \"b\"", ENV) == "'a' \"b\""
    assert ShellLex(raw_escapes=True).process_word("a\\ b", ENV) == "a\\ b"


def test_skip_process_quotes_for_heredoc_bodies() -> None:
    lex = ShellLex(skip_process_quotes=True)
    assert lex.process_word("echo '$N' \"$N\"\n", ENV) == "echo '5' \"5\"\n"


def test_matches_report_referenced_names() -> None:
    out, used = LEX.process_word_with_matches("$N ${U:-x} '$A'", ENV)
    assert out == "5 x $A"
    assert used == {"N", "U"}
