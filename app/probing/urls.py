"""One check of an endpoint URL: a malformed URL is an input error (exit 2), never an internal one."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.errors import InputError, shown

__all__ = ["check_url"]


def check_url(url: str) -> None:
    """Raise InputError (one line, the URL cut to 80 characters) unless ``url`` is http(s)://host[:port][/path].

    >>> check_url("http://127.0.0.1:9000/predict")
    >>> for bad in ("http://[::1/predict", "http://h:99999/p", "http://h:abc/p", "http://bad host/", "ftp://x/"):
    ...     try:
    ...         check_url(bad)
    ...     except InputError as exc:
    ...         print(str(exc).split("': ")[-1])
    expected http:// or https://host[:port][/path] (unbalanced [ ] in the host)
    the port must be a number from 1 to 65535
    the port must be a number from 1 to 65535
    the host contains a space or control character
    expected http:// or https://host[:port][/path]
    """
    head = f"bad URL {shown(url)}: "
    if not url.startswith(("http://", "https://")):
        raise InputError(head + "expected http:// or https://host[:port][/path]")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InputError(head + "expected http:// or https://host[:port][/path] (unbalanced [ ] in the host)") from None
    if not parts.netloc or not parts.hostname:
        raise InputError(head + "no host (expected http(s)://host[:port][/path])")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise InputError(head + "the port must be a number from 1 to 65535")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in parts.netloc):
        raise InputError(head + "the host contains a space or control character")
    host = parts.hostname
    if ":" not in host and (len(host) > 253 or any(not 0 < len(label) <= 63 for label in host.rstrip(".").split("."))):
        raise InputError(head + "the host name is not valid (labels of 1 to 63 characters, 253 at most)")
