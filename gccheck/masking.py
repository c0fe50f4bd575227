"""The one place that knows what a secret looks like and how to hide it.

Two layers: values are masked where they are turned into text (`mask_url_value`, `mask_url`,
`describe_value`), and every line gccheck writes passes through a `Redactor` that knows the
run's secrets and the common shapes of keys, as a last guard.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import quote, quote_plus, unquote

from gccheck.neutral import neutralise
from gccheck.url_parts import split_credentials, split_userinfo

MASK = "***"

# Environment variable names whose values are treated as secrets.
SECRET_NAME = re.compile(
    r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|CONNECTION_STRING|PRIVATE|AUTH|SAS|SIGNATURE", re.I
)

# scheme://userinfo@ : userinfo may hold access keys, account keys or private keys. This regex
# is the specification; mask_url and url_userinfos find the same matches in linear time
# (tests/test_masking.py compares them). Greedy to the token's last '@': a secret key may
# hold an unencoded '@' (the URL parser reads it so).
# A backslash-escaped character (JSON's \", Prometheus' \\) belongs to the userinfo, and so
# does a secret's own last backslash, right before the '@'.
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.\-]*://)((?:[^\s'\"\\]|\\.|\\(?=@))*)@", re.I)
_SCHEME_CHAR = re.compile(r"[a-z0-9+.\-]", re.I)
_SCHEME_FIRST = re.compile(r"[a-z]", re.I)
_WORD = re.compile(r"\w")
# A run of characters a URL's userinfo may hold (as _URL_USERINFO reads them): one URL with
# its userinfo lies inside one run.
_RUN = re.compile(r"(?:[^\s'\"\\]|\\.)+")
# A PEM private key block (the block cut short is _SHAPES' business).
_PEM_BEGIN = re.compile(r"-----BEGIN[^-]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END[^-]*PRIVATE KEY-----")
# Placeholders in help texts (s3://<key>:<secret>@host, az://:<key>@account) are not secrets.
_PLACEHOLDER = re.compile(r"^(?:<[a-z-]+>)?(?::<[a-z-]+>)?$")


class _Shape(Protocol):
    def sub(self, repl: Callable[[re.Match[str]], str], string: str) -> str: ...


class _EncodedPem:
    """A URL-encoded PEM block: what the regex
    `()(?:%2D){5}BEGIN.*?PRIVATE.*?(?:%2D){5}.*?(?:END.*?(?:%2D){5}|$)` (re.S, re.I) matches,
    found in one pass. The regex rescanned the rest of the text from every encoded BEGIN."""

    _begin = re.compile(r"(?:%2D){5}BEGIN", re.I)
    _private = re.compile("PRIVATE", re.I)
    _dashes = re.compile(r"(?:%2D){5}", re.I)
    _end = re.compile("END", re.I)
    _empty = re.compile("()")

    def sub(self, repl: Callable[[re.Match[str]], str], string: str) -> str:
        out: list[str] = []
        at = 0
        while True:
            begin = self._begin.search(string, at)
            private = self._private.search(string, begin.end()) if begin else None
            dashes = self._dashes.search(string, private.end()) if private else None
            # Without these after this BEGIN, no later BEGIN has them either.
            if begin is None or dashes is None:
                out.append(string[at:])
                return "".join(out)
            # The lazy tail: the first END that some %2D x5 follows, else the end of the text.
            end = self._end.search(string, dashes.end())
            close = self._dashes.search(string, end.end()) if end else None
            stop = close.end() if close else len(string) - string.endswith("\n")  # as `$`
            match = self._empty.match(string, begin.start())
            assert match is not None
            out += [string[at:begin.start()], repl(match)]
            at = stop


# (pattern, lowercase words one of which any match contains): a pattern is skipped where none
# of its words occurs, which makes redacting a 1,000-deployment report ~4x faster.
_SHAPES: tuple[tuple[_Shape, tuple[str, ...]], ...] = (
    # Azure connection strings and SAS tokens.
    (re.compile(r"(AccountKey=)[^;\s'\"]+", re.I), ("accountkey=",)),
    (re.compile(r"(SharedAccessSignature=)[^;\s'\"]+", re.I), ("sharedaccesssignature=",)),
    (re.compile(r"([?&]sig=)[^&\s'\"]+", re.I), ("sig=",)),
    # key=value pairs whose name says secret (aws_secret_access_key = ..., token: ...). The
    # match starts where the name's run of word characters starts and takes the run whole
    # (possessive), so a run of 'secretsecret...' is scanned once, not once per 'secret'.
    (re.compile(
        r"((?<![\w-])(?=[\w-]*?(?:secret|token|password|passwd|private[_-]?key|account[_-]?key"
        r"|access[_-]?key))[\w-]*+['\"]?\s*[=:]\s*['\"]?)[^\s'\",;&]+",
        re.I,
    ), ("secret", "token", "passw", "private", "account", "access")),
    # A block cut short (no END line) is hidden to the end of the text.
    # (`BEGIN[^-\n]*PRIVATE[^-\n]*KEY` said with a look-ahead and a possessive run: the
    # same blocks, without trying every 'PRIVATE' of a long line against every end.)
    (re.compile(r"()-----BEGIN(?=[^-\n]*?PRIVATE)[^-\n]*+(?<=KEY)-----.*?"
                r"(?:-----END[^-]*KEY-----|$)", re.S),
     ("-----begin",)),
    (_EncodedPem(), ("%2d",)),
)
# A Kubernetes $(VAR) reference the kubelet left unexpanded names a variable, not a secret:
# hiding it would hide what is missing.
_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_.\-]*\)")
# Values shorter than this are not learned as secrets: hiding every 'wandb' or 'true' in a
# report would make it unreadable (URL userinfo is masked by shape whatever its length).
_MIN_SECRET_LEN = 8
_FLAG_WORDS = {"", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null"}


def is_flag_word(value: str) -> bool:
    """A boolean-like word: revealing that a flag read from a Secret is 'true' reveals nothing,
    and hiding every 'true' in a report would make it unreadable."""
    return value.strip().lower() in _FLAG_WORDS


def is_secret_name(name: str) -> bool:
    """True for variable names whose value must never be shown (AWS_SECRET_ACCESS_KEY, ...)."""
    return bool(SECRET_NAME.search(name))


def _scheme_start(run: str, colon: int) -> int | None:
    """Where the scheme before run[colon:colon+3] == '://' starts, as _URL_USERINFO's
    `\\b[a-z][a-z0-9+.-]*` would find it (leftmost), or None."""
    start = colon
    while start > 0 and _SCHEME_CHAR.match(run[start - 1]):
        start -= 1
    for p in range(start, colon):
        if _SCHEME_FIRST.match(run[p]) and (p == 0 or not _WORD.match(run[p - 1])):
            return p
    return None


def _userinfo_span(run: str) -> tuple[int, int] | None:
    """(start, end) of the URL userinfo in one run, or None. Each run holds at most one: the
    first scheme takes the userinfo to the run's last '@' (the regex is greedy)."""
    last_at = run.rfind("@")
    colon = run.find("://")
    while colon >= 0 and colon + 3 <= last_at:
        if _scheme_start(run, colon) is not None:
            return colon + 3, last_at
        colon = run.find("://", colon + 1)
    return None


def url_userinfos(text: str) -> list[str]:
    """Every URL userinfo (`user:password`) in the text, as _URL_USERINFO finds them."""
    if "@" not in text or "://" not in text:
        return []
    found = []
    for match in _RUN.finditer(text):
        span = _userinfo_span(match.group(0))
        if span is not None:
            found.append(match.group(0)[span[0]:span[1]])
    return found


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    span = _userinfo_span(run)
    if span is None or _PLACEHOLDER.match(run[span[0]:span[1]]):
        return run
    hidden = f"{MASK}:{MASK}" if ":" in run[span[0]:span[1]] else MASK
    return f"{run[:span[0]]}{hidden}{run[span[1]:]}"


def mask_url(url: str) -> str:
    """The URL with any user:password part replaced by ***.

    Linear in the text: the same matches as _URL_USERINFO.sub, found run by run (the regex
    rescans the rest of a run from every '://' in it: 20 KB of 'a://' took 30 s).
    """
    if "@" not in url or "://" not in url:
        return url
    return _RUN.sub(_mask_run, url)


def _mask_pem(text: str) -> str:
    # BEGIN ... the first END after it; without an END, no later BEGIN has one either (the
    # regex `BEGIN.*?END` rescanned the rest of the text from every BEGIN).
    out: list[str] = []
    at = 0
    while True:
        begin = _PEM_BEGIN.search(text, at)
        end = _PEM_END.search(text, begin.end()) if begin else None
        if begin is None or end is None:
            out.append(text[at:])
            return "".join(out)
        out += [text[at:begin.start()], MASK]
        at = end.end()


# The schemes a mistyped bucket URL may start with (s3:/KEY:SECRET@host): kept when masked,
# so that the mistake stays visible. Only these: in `KEY:SECRET@host` the key is no scheme.
_TYPO_HEAD = re.compile(r"^((?:s3|cw|gs|az|gcs|azure|abfs|wasb|s3a|s3n|minio|https?)[:/]+)",
                        re.I)


def _hidden(userinfo: str) -> str:
    return f"{MASK}:{MASK}" if ":" in userinfo else MASK


def mask_url_value(url: str) -> str:
    """One URL (a value, not free text) with everything between :// and its last '@' hidden.

    mask_url finds URLs in text, so it stops at quotes and spaces; a lone value has no such
    boundary, and a secret may hold quotes or spaces. A mistyped scheme keeps what the user
    typed around the secrets: `s3:/KEY:SECRET@host/b` is shown as `s3:/***:***@host/b`.
    """
    parts = split_userinfo(url)
    if parts is None:
        if "@" not in url:
            return mask_url(url)
        head_match = _TYPO_HEAD.match(url)
        head = head_match.group(1) if head_match else ""
        userinfo, _, after = url[len(head):].rpartition("@")
        return f"{head}{_hidden(userinfo)}@{after}"
    if parts.userinfo is None:
        return mask_url(url)
    if _PLACEHOLDER.match(parts.userinfo):
        return url
    return f"{parts.scheme}://{_hidden(parts.userinfo)}@{parts.rest}"


def describe_value(value: str, limit: int = 24) -> str:
    """A value quoted for a message, or its length only when it is long enough to be a key."""
    if len(value) > limit or any(not ch.isprintable() for ch in value):
        return f"a {len(value)}-character value (not shown)"
    return repr(value)


def _markdown(text: str) -> str:
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


# How gccheck's own code shows a value: as it is, quoted with repr() (describe_value and every
# `{value!r}`: quotes and backslashes escaped), with outside text neutralised (`\x1b`).
_SHOWN: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    lambda s: repr(s)[1:-1],
    lambda s: s.replace("\\", "\\\\").replace("'", "\\'"),
    lambda s: s.replace("\\", "\\\\").replace('"', '\\"'),
    lambda s: neutralise(s, None),
)
# How each format then writes it: JSON (and Prometheus labels), HTML, JUnit's XML, URLs,
# Markdown's backslash escapes.
_WRITTEN: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    html.escape,
    lambda s: html.escape(s, quote=False),
    lambda s: html.escape(s, quote=False).replace('"', "&quot;"),
    # A Secret's bytes that are not UTF-8 arrive as lone surrogates (surrogateescape).
    lambda s: quote(s.encode("utf-8", "surrogateescape"), safe=""),
    lambda s: quote_plus(s.encode("utf-8", "surrogateescape"), safe=""),
    lambda s: s.replace("|", "\\|"),
    _markdown,
)


def _variants(secret: str, min_len: int = _MIN_SECRET_LEN) -> set[str]:
    """Every form of `secret` that gccheck could write: each way it shows a value, as each
    format escapes it, and its base64 forms."""
    # The Markdown format's own escaping (imported here: masking loads at start-up, formats
    # only when a report is rendered). Reports are also redacted before any format sees them.
    from gccheck.formats.markdown import text as markdown_text

    raw = secret.encode("utf-8", "surrogateescape")
    found = {write(show(secret)) for show in _SHOWN for write in (*_WRITTEN, markdown_text)}
    found |= {
        base64.b64encode(raw).decode("ascii"),
        base64.urlsafe_b64encode(raw).decode("ascii"),
        # Base64 of a secret inside a longer blob is not aligned; the padded form covers whole
        # values (Kubernetes Secrets), the stripped one covers '='-less encoders.
        base64.b64encode(raw).decode("ascii").rstrip("="),
    }
    return {v for v in found if len(v) >= min_len}


def _trie_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of `words`, longest first, built as a trie.

    A plain alternation is scanned alternative by alternative at every position; an audit can
    hold thousands of secrets, so the alternatives share their prefixes instead.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        parts: list[str] = []
        # Follow single-child chains without recursion (PEM keys are 1,700 characters long).
        while len(node) == 1 and "" not in node:
            ch, node = next(iter(node.items()))
            parts.append(re.escape(ch))
        branches = [re.escape(ch) + build(child) for ch, child in node.items() if ch != ""]
        if branches:
            body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
            # Greedy '?': the longer secret wins over one that ends here.
            parts.append(f"(?:{body})?" if "" in node else body)
        return "".join(parts)

    return re.compile(build(trie))


def _secret_fields(value: str) -> set[str]:
    """The secret parts of a secret-named value that is a connection string
    (`AccountKey=...;SharedAccessSignature=sv=...&sig=...`) or a SAS token: each secret-named
    field and a SAS's `sig`, as written and URL-decoded, since a server may echo one without
    the rest. Other fields (BlobEndpoint, sv, se) stay readable."""
    found: set[str] = set()
    for field_text in value.split(";"):
        key, eq, field_value = field_text.strip().partition("=")
        if eq and is_secret_name(key):
            found |= {field_value, unquote(field_value)}
    # A SAS inside a connection string's field, or the value itself as a SAS token.
    for query in [*found, *([value] if ";" not in value else [])]:
        for pair in query.lstrip("?").split("&"):
            key, eq, field_value = pair.partition("=")
            if eq and key.strip().lower() == "sig":
                found |= {field_value, unquote(field_value)}
    return {part for part in found if len(part) >= 4 and not is_flag_word(part)}


class Redactor:
    """Hides known secret values and secret-shaped text in anything gccheck prints."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        # Secrets shorter than _MIN_SECRET_LEN that the run learnt for certain (keys in the
        # bucket URL, secret-named settings): hidden where they stand alone, not inside a
        # longer word (a key 'ab12' must not turn 'lab123' into 'l***3').
        self._short: set[str] = set()
        self._short_pattern: re.Pattern[str] | None = None
        # An audit's workers learn secrets (live settings) while other threads redact (debug
        # lines, the report of a deployment given up on): one lock for the set and pattern.
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None, *, any_length: bool = False) -> None:
        """Remember a secret (and every form gccheck could write it in) to hide from now on.

        Values shorter than 8 characters are learnt only with `any_length` (a key the run
        knows is one, such as a bucket URL's), and hidden only where they stand alone.
        """
        if not secret or is_flag_word(secret) or _REFERENCE.fullmatch(secret.strip()):
            return
        found = _variants(secret) | _variants(secret.strip())
        short = (_variants(secret, 1) | _variants(secret.strip(), 1)) - found if any_length \
            else set()
        with self._lock:
            if not found <= self._secrets:
                self._secrets |= found
                self._pattern = None
            if not short <= self._short:
                self._short |= short
                self._short_pattern = None

    def _known(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        with self._lock:
            if self._pattern is None and self._secrets:
                self._pattern = _trie_pattern(self._secrets)
            if self._short_pattern is None and self._short:
                alone = _trie_pattern(self._short).pattern
                self._short_pattern = re.compile(f"(?<![A-Za-z0-9])(?:{alone})(?![A-Za-z0-9])")
            return self._pattern, self._short_pattern

    def add_settings(self, values: Mapping[str, str | None]) -> None:
        """Remember the values of every secret-named variable, and secrets inside URLs."""
        for name, value in values.items():
            if value is None:
                continue
            if is_secret_name(name):
                self.add(value, any_length=True)
                for part in _secret_fields(value):
                    self.add(part, any_length=True)
            parts = split_userinfo(value.strip()) if name == "BUCKET" else None
            # The bucket URL is one value: its userinfo runs to the last '@', quotes and all.
            userinfos = [parts.userinfo] if parts is not None and parts.userinfo else []
            for userinfo in userinfos or url_userinfos(value):
                # The password part; the user part of the bucket URL (an access key, however
                # short), and of other URLs when it is long enough to be a key id (AWS: 20
                # characters), not a user name such as 'wandb'.
                user, password = split_credentials(userinfo) or ("", userinfo)
                for part in {password, unquote(password)}:
                    self.add(part, any_length=True)
                if name == "BUCKET" or len(user) >= 16:
                    for part in {user, unquote(user)}:
                        self.add(part, any_length=name == "BUCKET")

    def redact(self, text: str) -> str:
        """The text with every known secret and secret-shaped substring replaced by ***."""
        known, short = self._known()
        if known is not None:
            text = known.sub(MASK, text)
        if short is not None:
            text = short.sub(MASK, text)
        text = mask_url(text)
        if "-----" in text:
            text = _mask_pem(text)
        # Only for ASCII is lower() exact: re.I also matches 'ſ' to 's' and 'ı' to 'i'.
        lowered = text.lower() if text.isascii() else None
        for shape, words in _SHAPES:
            if lowered is None or any(word in lowered for word in words):
                text = shape.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return text
