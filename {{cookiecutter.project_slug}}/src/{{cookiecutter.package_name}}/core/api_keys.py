"""Named API keys with scopes: how API_KEYS is read, which scope each route needs, and who a request comes from.

`API_KEYS='app:predict+feedback:SECRET,web:predict:SECRET,ops:admin:SECRET'` gives each client its own key (name,
scopes joined by `+`, secret); `API_KEY` alone is one key named `default` with every scope. The service's
middleware asks `AccessRule.caller` about every request, in both serving modes: this module is the one home of the
rule, so a route, a caller or a test never decides access on its own (docs/security.md).
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from pydantic import SecretStr

SCOPES = ("predict", "feedback", "admin")
DEFAULT_KEY_NAME = "default"
# The source of a request sent without a key (feedback records it): never a key's name.
ANONYMOUS = "anonymous"
# A name is what feedback rows record as their source and what logs show, so it stays short and plain.
VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# The route groups that need a scope, matched as path prefixes (`/predict` covers /predict/batch and /predictions/..).
# Any other protected path (/model, /metrics, /monitoring, ...) takes a key of any scope.
SCOPED_PREFIXES = (("/predict", "predict"), ("/feedback", "feedback"), ("/admin", "admin"))


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: frozenset[str]
    secret: SecretStr  # SecretStr: printing the settings, or an error about them, shows ********** instead


def parse_api_keys(text: str) -> tuple[ApiKey, ...]:
    """API_KEYS's comma-separated `name:scopes:secret` entries. A ValueError names the first bad entry by its position
    only: an entry written in the wrong order would put its secret where the name or the scopes belong, and an error
    message ends up in logs. The secret is what follows the second colon, so it may hold colons but not commas."""
    keys: list[ApiKey] = []
    entries = [entry.strip() for entry in text.split(",")]
    if entries == [""]:
        return ()
    for position, entry in enumerate(entries, start=1):
        where = f"API_KEYS entry {position}"
        if entry.count(":") < 2:
            raise ValueError(f"{where} is not name:scopes:secret")
        name, scope_text, secret = entry.split(":", 2)
        if not VALID_NAME.match(name):
            raise ValueError(f"{where} has a bad name: use 1 to 64 letters, digits, '_', '.' or '-'")
        if name == ANONYMOUS:
            raise ValueError(f"{where} is named {ANONYMOUS}, the name kept for requests sent without a key")
        names = [key.name for key in keys]
        if name in names:
            raise ValueError(f"{where} has the name of entry {names.index(name) + 1}: each key needs its own name")
        scopes = scope_text.split("+")
        if not set(scopes) <= set(SCOPES):
            raise ValueError(f"{where} has an unknown scope: use {', '.join(SCOPES)}, joined by +")
        if not secret.strip():
            raise ValueError(f"{where} has an empty secret")
        secrets = [key.secret.get_secret_value() for key in keys]
        if secret in secrets:
            # The service could not tell the two callers apart: feedback would be recorded under the first name.
            raise ValueError(f"{where} has the secret of entry {secrets.index(secret) + 1}: each key needs its own")
        keys.append(ApiKey(name, frozenset(scopes), SecretStr(secret)))
    return tuple(keys)


def the_keys(api_keys: tuple[ApiKey, ...], api_key: SecretStr | None) -> tuple[ApiKey, ...]:
    """The keys a service accepts: API_KEYS's, then API_KEY (when set) as one all-scopes key named `default`.

    Both may be set: API_KEY is then the operator's key beside the clients' scoped ones (the team stack's compose
    file requires it). A ValueError when API_KEYS names a key `default` too, as the two could not be told apart.
    """
    if api_key is None or not api_key.get_secret_value():
        return api_keys
    if DEFAULT_KEY_NAME in (key.name for key in api_keys):
        taken = f"API_KEYS names a key {DEFAULT_KEY_NAME}, the name of API_KEY's key"
        raise ValueError(f"{taken}: rename it or unset API_KEY")
    if api_key.get_secret_value() in (key.secret.get_secret_value() for key in api_keys):
        raise ValueError("API_KEY has the secret of a key in API_KEYS: each key needs its own secret")
    return (*api_keys, ApiKey(DEFAULT_KEY_NAME, frozenset(SCOPES), api_key))


def secret_for(keys: Iterable[ApiKey], scope: str) -> str | None:
    """The secret of the first key that has `scope`: what the project's own callers send (simulate, the reload
    notice); None when no key has it, and then the caller sends none."""
    return next((key.secret.get_secret_value() for key in keys if scope in key.scopes), None)


def scope_needed(path: str) -> str | None:
    """The scope a route path needs, or None when any key will do."""
    return next((scope for prefix, scope in SCOPED_PREFIXES if path.startswith(prefix)), None)


@dataclass(frozen=True)
class Refusal:
    status: HTTPStatus
    detail: str


def _digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


class AccessRule:
    """Who a request comes from (a key's name, or ANONYMOUS), or why it is refused (401: no key or a wrong one; 403:
    a key without the route's scope). Only each secret's SHA-256 digest is kept here."""

    def __init__(self, keys: tuple[ApiKey, ...], public_paths: frozenset[str], allow_anonymous_feedback: bool) -> None:
        self.keys = [(_digest(key.secret.get_secret_value().encode()), key.name, key.scopes) for key in keys]
        self.public_paths = public_paths
        self.allow_anonymous_feedback = allow_anonymous_feedback

    def caller(self, path: str, presented: bytes) -> str | Refusal:
        """`path` is the route's path (the ASGI root_path taken off), `presented` the X-API-Key header (b"" if none)."""
        if path in self.public_paths:
            return ANONYMOUS
        needed = scope_needed(path)
        if not self.keys:
            if needed == "feedback" and not self.allow_anonymous_feedback:
                detail = (
                    "this service takes no anonymous feedback (ALLOW_ANONYMOUS_FEEDBACK=false): its operator sets "
                    "API_KEYS and gives you a key with the feedback scope to send as X-API-Key"
                )
                return Refusal(HTTPStatus.UNAUTHORIZED, detail)
            return ANONYMOUS
        if not presented:
            return Refusal(HTTPStatus.UNAUTHORIZED, "this route needs an API key: send it as the X-API-Key header")
        # Every digest is compared, each in constant time, so the time taken tells nothing about which key matched.
        digest = _digest(presented)
        found: tuple[str, frozenset[str]] | None = None
        for expected, name, scopes in self.keys:
            if hmac.compare_digest(digest, expected) and found is None:
                found = (name, scopes)
        if found is None:
            return Refusal(HTTPStatus.UNAUTHORIZED, "the X-API-Key sent is not one of this service's keys")
        name, scopes = found
        if needed is not None and needed not in scopes:
            detail = f"the key {name} lacks the {needed} scope, which {path} needs: send a key that has {needed}"
            return Refusal(HTTPStatus.FORBIDDEN, detail)
        return name
