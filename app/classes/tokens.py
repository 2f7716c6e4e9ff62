"""Class codes, tokens and friendly names.

A code is read off a projector and typed on a phone, so it has no letters that look alike
(I/L, O) and no digits (0/O, 1/I). Tokens are stored only as their SHA-256: whoever reads the
store cannot act as a teacher or a student, and a token is checked by hashing what is shown and
comparing the hashes in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ"  # 23 letters: no I, L or O
CODE_LENGTH = 6  # 23**6 is about 148 million codes
CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")

ADJECTIVES = (
    "Amber", "Brave", "Calm", "Curious", "Eager", "Gentle", "Golden", "Happy", "Jolly", "Keen",
    "Lively", "Lucky", "Merry", "Nimble", "Patient", "Quick", "Quiet", "Shiny", "Steady", "Swift",
    "Sunny", "Tidy", "Witty", "Zesty",
)  # fmt: skip
ANIMALS = (
    "Badger", "Beaver", "Bison", "Crane", "Dolphin", "Falcon", "Ferret", "Gecko", "Heron", "Ibex",
    "Koala", "Lemur", "Lynx", "Marten", "Otter", "Owl", "Panda", "Puffin", "Robin", "Seal", "Swan",
    "Tapir", "Walrus", "Wombat",
)  # fmt: skip


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as typed: case and surrounding blanks do not matter."""
    return text.strip().upper()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token).encode(), stored_hash.encode())


def student_token(code: str, secret: str) -> str:
    """A student token names its class, so it is found without an index over every class."""
    return f"{code}.{secret}"


def split_student_token(token: str) -> tuple[str, str] | None:
    code, dot, secret = token.partition(".")
    return (code, secret) if dot and CODE.fullmatch(code) and secret else None


def friendly_name() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)}"
