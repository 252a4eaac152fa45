"""Container IDs, random `adjective_surname` names, and name validation."""

from __future__ import annotations

import os
import re

from podpy.errors import InvalidArgument

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")

ADJECTIVES = (
    "admiring", "agile", "amazing", "awesome", "blissful", "bold", "brave", "busy", "calm", "charming",
    "clever", "cool", "compassionate", "confident", "cranky", "dazzling", "determined", "dreamy", "eager",
    "ecstatic", "elastic", "elegant", "eloquent", "epic", "fervent", "festive", "focused", "friendly",
    "frosty", "gallant", "gifted", "gracious", "happy", "hopeful", "hungry", "infallible", "inspiring",
    "intelligent", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest",
    "musing", "mystifying", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful",
    "pensive", "practical", "priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene",
    "sharp", "silly", "sleepy", "stoic", "strange", "suspicious", "sweet", "tender", "thirsty", "trusting",
    "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "youthful", "zealous", "zen",
)  # fmt: skip

SURNAMES = (
    "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha",
    "bohr", "booth", "borg", "bose", "brahmagupta", "brown", "carson", "cerf", "chandrasekhar", "chaum",
    "clarke", "curie", "darwin", "davinci", "dijkstra", "dirac", "einstein", "elion", "euclid", "euler",
    "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton",
    "hawking", "heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "jackson", "johnson", "kalam", "kepler",
    "khorana", "knuth", "kowalevski", "lalande", "lamport", "leakey", "lovelace", "lumiere", "mayer",
    "mccarthy", "mclean", "meitner", "mendel", "minsky", "morse", "napier", "newton", "nobel", "noether",
    "pascal", "pasteur", "payne", "perlman", "pike", "planck", "ramanujan", "ritchie", "rosalind", "sammet",
    "shannon", "shockley", "sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing",
    "varahamihira", "wescoff", "wiles", "williams", "wozniak", "wright", "yalow", "yonath",
)  # fmt: skip


def new_id() -> str:
    """64 hex characters whose 12-character short form is not all digits (Docker's rule)."""
    while True:
        cid = os.urandom(32).hex()
        if not cid[:12].isdigit():
            return cid


def _below(n: int) -> int:
    """Uniform in [0, n) from os.urandom, as random.SystemRandom draws (without importing random)."""
    k = n.bit_length()
    nbytes = (k + 7) // 8
    while True:
        r = int.from_bytes(os.urandom(nbytes), "big") >> (nbytes * 8 - k)
        if r < n:
            return r


def random_name(taken: set[str]) -> str:
    for attempt in range(200):
        name = f"{ADJECTIVES[_below(len(ADJECTIVES))]}_{SURNAMES[_below(len(SURNAMES))]}"
        if attempt >= 20:
            name += str(_below(10))
        if name not in taken:
            return name
    raise InvalidArgument("could not allocate a container name")


def validate_name(name: str) -> str:
    name = name.removeprefix("/")
    if not NAME_RE.fullmatch(name):
        raise InvalidArgument(f"invalid container name {name!r}: must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    return name
