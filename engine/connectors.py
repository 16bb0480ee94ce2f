"""Built-in connectors: ``http`` (JSON over HTTP to allowed hosts) and spiff-arena's connector proxy.

``http`` is a service task operator like any registered connector (``serviceTaskOperator id="http"``
with parameters ``url``, ``method`` GET/POST/PUT/DELETE, ``headers``, ``params``, ``json``,
``timeout``): it calls only hosts listed in ``ECVET_HTTP_ALLOWED_HOSTS`` (redirects included), takes
header values ``secret:NAME`` from ``ECVET_CONNECTOR_SECRETS`` (they never reach task data), waits at
most ``ECVET_HTTP_TIMEOUT`` and reads at most :data:`MAX_RESPONSE_BYTES`. Its result is ``{status,
headers, body}`` (body parsed when JSON). A failure (a refused host, no answer, a status of 400 or
more) is the task's error: the task's ``retries`` property retries it with backoff, then an incident.

An operator no connector here has (``http/GetRequestV2``...) goes to the spiff-arena connector proxy
at ``ECVET_CONNECTOR_PROXY_URL``: ``POST {proxy}/v1/do/{operator}`` with the parameters (secrets
resolved) and ``spiff__task_data``; the result is its ``command_response`` (a JSON body parsed).
Without a proxy the task fails with an incident that says so.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from . import services
from .config import settings

SECRET_PREFIX = "secret:"
MAX_RESPONSE_BYTES = 1024 * 1024
_METHODS = ("GET", "POST", "PUT", "DELETE")
_SHORT = 300
_FIRST_ERROR_STATUS = 400
_FIRST_PROXY_FAILURE = 300


class ConnectorError(Exception):
    """A call a connector refused or that failed, in words for the process owner."""


def _secrets() -> dict[str, Any]:
    raw = settings().connector_secrets
    if not raw:
        return {}
    try:
        secrets = json.loads(raw)
    except ValueError:
        secrets = None
    if not isinstance(secrets, dict):
        raise ConnectorError("ECVET_CONNECTOR_SECRETS must be a JSON object of name: value")
    return secrets


def resolve_secret(value: Any) -> Any:
    """``secret:NAME`` -> the configured secret; any other value as it is."""
    if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
        return value
    name = value[len(SECRET_PREFIX):]
    secrets = _secrets()
    if name not in secrets:
        raise ConnectorError(f"secret '{name}' is not configured (ECVET_CONNECTOR_SECRETS)")
    return secrets[name]


def host_allowed(host: str | None) -> bool:
    """Whether the ``http`` connector may call ``host`` (exact names, or ``*.domain`` for subdomains)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    for allowed in (a.lower().rstrip(".") for a in settings().http_allowed_hosts):
        if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
            return True
    return False


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise ConnectorError("the http connector needs a url")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConnectorError(f"only http and https URLs are called, not {url[:_SHORT]!r}")
    if not host_allowed(parts.hostname):
        raise ConnectorError(f"host '{parts.hostname}' is not in ECVET_HTTP_ALLOWED_HOSTS")
    return url


class _AllowedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an allowed host."""

    def __init__(self, check: Callable[[str], Any]) -> None:
        self.check = check

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,  # noqa: PLR0917 - urllib's
                         newurl: str) -> Any:
        self.check(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _exchange(method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout: float,
              check_redirect: Callable[[str], Any]) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_AllowedRedirects(check_redirect))
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - checked
    try:
        with opener.open(request, timeout=timeout) as response:
            status, answer_headers = response.status, dict(response.headers)
            data = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as err:
        status, answer_headers, data = err.code, dict(err.headers or {}), err.read(MAX_RESPONSE_BYTES + 1)
    except (TimeoutError, urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise ConnectionError(f"{method} {url[:_SHORT]}: no answer ({reason})") from None
    if len(data) > MAX_RESPONSE_BYTES:
        raise ConnectorError(f"{method} {url[:_SHORT]}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    return status, {k.lower(): v for k, v in answer_headers.items()}, data


def _decoded(data: bytes, content_type: str) -> Any:
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type.lower() and text.strip():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@services.connector("http")
def http(*, url: str, method: str = "GET", headers: Mapping[str, Any] | None = None,
         params: Mapping[str, Any] | None = None, json: Any = None,  # noqa: A002 - the parameter's BPMN name
         timeout: float | None = None) -> dict[str, Any]:
    """One HTTP call with a JSON body (``json``) and query (``params``); ``{status, headers, body}``."""
    verb = str(method).upper()
    if verb not in _METHODS:
        raise ConnectorError(f"method must be one of {', '.join(_METHODS)}, not {method!r}")
    target = _check_url(url)
    if params:
        target += ("&" if urllib.parse.urlsplit(target).query else "?") + urllib.parse.urlencode(dict(params))
    sent = {str(k): str(resolve_secret(v)) for k, v in (headers or {}).items()}
    body = None
    if json is not None:
        body = _json_bytes(json)
        sent.setdefault("Content-Type", "application/json")
    sent.setdefault("Accept", "application/json")
    wait = min(float(timeout), settings().http_timeout) if timeout else settings().http_timeout
    status, answer_headers, data = _exchange(verb, target, headers=sent, body=body, timeout=wait,
                                             check_redirect=_check_url)
    decoded = _decoded(data, answer_headers.get("content-type", ""))
    if status >= _FIRST_ERROR_STATUS:
        raise ConnectorError(f"{verb} {url} answered {status}: {str(decoded)[:_SHORT]}")
    return {"status": status, "headers": answer_headers, "body": decoded}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=str).encode("utf-8")


def _proxy_result(operator: str, status: int, answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise ConnectorError(f"connector proxy: '{operator}' answered {status} without a JSON object")
    error = answer.get("error")
    if status >= _FIRST_PROXY_FAILURE or error:
        detail = error.get("message") if isinstance(error, dict) else error
        raise ConnectorError(f"connector proxy: '{operator}' failed ({status}): {str(detail or answer)[:_SHORT]}")
    result = answer.get("command_response", answer)
    if isinstance(result, dict) and isinstance(result.get("body"), str) and "json" in str(result.get("mimetype")):
        try:
            result = {**result, "body": json.loads(result["body"])}
        except ValueError:
            pass
    return result


def proxy_connector(operator: str, task_data: Mapping[str, Any]) -> Callable[..., Any] | None:
    """The connector proxy's call for ``operator``, or None when no proxy is configured."""
    base = settings().connector_proxy_url
    if not base:
        return None

    def call(**params: Any) -> Any:
        body = {name: resolve_secret(value) for name, value in params.items()}
        body["spiff__task_data"] = dict(task_data)
        url = f"{base.rstrip('/')}/v1/do/{urllib.parse.quote(operator)}"
        status, headers, data = _exchange("POST", url, headers={"Content-Type": "application/json",
                                                                "Accept": "application/json"},
                                          body=_json_bytes(body), timeout=settings().http_timeout,
                                          check_redirect=lambda _url: None)
        return _proxy_result(operator, status, _decoded(data, headers.get("content-type", "application/json")))

    return call
