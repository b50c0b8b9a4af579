"""HTTP for NCBI E-utilities: pacing, retries with backoff, errors hidden inside HTTP 200 answers.

The API key is sent with every request but never written anywhere: log lines and error
messages pass through :meth:`EutilsClient.redact`.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from genomedl.errors import GenomedlError
from genomedl.sources.ncbi.ratelimit import RateLimiter

#: Longest form-encoded query sent with GET; longer ones go as a POST body.
MAX_GET_CHARS = 1800
#: Backoff never waits longer than this, and a server's Retry-After is obeyed up to this.
MAX_WAIT_S = 60.0
#: Words in an error message that mean retrying cannot help.
PERMANENT_WORDS = ("invalid", "unknown", "not supported", "too long")


class TransientAnswer(Exception):
    """An HTTP 200 answer that carries an error, or is not what E-utilities sends; retried."""


class EutilsClient:
    """One E-utilities endpoint with a rate limit shared through ``lock_path``."""

    def __init__(
        self,
        base_url: str,
        *,
        email: str,
        tool: str,
        api_key: str | None,
        max_rps: float,
        timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        lock_path: Path | None,
        log,
    ):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.identity = {"tool": tool, "email": email}
        self.api_key = api_key or None
        self.limiter = RateLimiter(max_rps, lock_path)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.log = log

    def redact(self, text: str) -> str:
        """``text`` with the API key (plain or URL-encoded) replaced by ``***``."""
        if not self.api_key:
            return text
        for form in {self.api_key, urllib.parse.quote_plus(self.api_key), urllib.parse.quote(self.api_key)}:
            text = text.replace(form, "***")
        return text

    def json(self, util: str, params: dict, what: str) -> dict:
        """GET/POST ``util`` with ``retmode=json`` and return the decoded answer."""
        return self._request(util, {**params, "retmode": "json"}, what, _check_json)[1]

    def efetch_text(self, params: dict, what: str) -> str:
        """efetch as plain text; an empty string when NCBI answers that it knows none of the ids."""
        status, body = self._request("efetch", {"retmode": "text", **params}, what, _check_efetch, missing_ok=True)
        return "" if status == 400 or body.lstrip().startswith("Error") else body

    def _request(self, util: str, params: dict, what: str, check, missing_ok: bool = False):
        fields = {**params, **self.identity}
        if self.api_key:
            fields["api_key"] = self.api_key
        data = urllib.parse.urlencode(fields, doseq=True)
        url = f"{self.base_url}{util}.fcgi"
        post = len(data) > MAX_GET_CHARS
        shown = f"POST {url} ({len(data)} bytes of form data)" if post else f"GET {url}?{data}"
        failure = ""
        for attempt in range(self.max_retries + 1):
            retry_after = None
            self.limiter.wait()
            self.log(self.redact(f"ncbi: {shown}"))
            request = urllib.request.Request(
                url if post else f"{url}?{data}",
                data=data.encode() if post else None,
                headers={"User-Agent": f"{self.identity['tool']} ({self.identity['email']})"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                    body = answer.read().decode("utf-8", "replace")
                return 200, check(body)
            except urllib.error.HTTPError as exc:
                body = _read_quietly(exc)
                if exc.code == 400 and missing_ok:
                    return 400, body
                if exc.code != 429 and exc.code < 500:
                    raise GenomedlError(
                        self.redact(
                            f"NCBI {util} refused the request for {what} (HTTP {exc.code}: "
                            f"{_snippet(body)}); check these ids and the ncbi settings in the config"
                        )
                    ) from None
                failure = f"HTTP {exc.code}"
                retry_after = _retry_after_s(exc.headers.get("Retry-After"))
            except TransientAnswer as exc:
                message = str(exc)
                if any(word in message.lower() for word in PERMANENT_WORDS):
                    raise GenomedlError(
                        self.redact(
                            f"NCBI {util} rejected the request for {what}: {message}; "
                            "check these ids or the query in the config"
                        )
                    ) from None
                failure = f"error in answer: {message}"
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                failure = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
            if attempt == self.max_retries:
                break
            wait = min(MAX_WAIT_S, self.backoff_base_s * 2**attempt) * random.uniform(0.5, 1.0)
            if retry_after is not None:
                wait = max(wait, min(retry_after, MAX_WAIT_S))
            self.log(
                self.redact(
                    f"ncbi: {util} failed ({_snippet(failure)}); retry {attempt + 1}/{self.max_retries} in {wait:.1f} s"
                )
            )
            time.sleep(wait)
        raise GenomedlError(
            self.redact(
                f"NCBI {util} failed {self.max_retries + 1} times for {what} (last: {_snippet(failure)}); "
                "NCBI may be busy or unreachable: run again later, or set ncbi.offline: true to use the cache"
            )
        )


def _check_json(body: str) -> dict:
    """Decode a JSON answer; raise TransientAnswer for the error forms E-utilities uses."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise TransientAnswer(f"not JSON: {_snippet(body)}") from None
    if not isinstance(answer, dict):
        raise TransientAnswer(f"unexpected answer: {_snippet(body)}")
    error = answer.get("error") or answer.get("ERROR")
    search = answer.get("esearchresult")
    if not error and isinstance(search, dict):
        error = search.get("ERROR")
    if not error:
        for linkset in answer.get("linksets") or []:
            error = error or (linkset.get("ERROR") if isinstance(linkset, dict) else None)
    if error:
        raise TransientAnswer(_snippet(str(error)))
    return answer


def _check_efetch(body: str) -> str:
    """Pass GenBank text and NCBI's plain 'Error ...' answers; raise on XML/HTML error pages."""
    head = body.lstrip()[:2000]
    if head.startswith("<"):
        inner = head.split("<ERROR>", 1)[1].split("</ERROR>", 1)[0] if "<ERROR>" in head else head
        raise TransientAnswer(_snippet(inner))
    return body


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _read_quietly(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""


def _snippet(text: str, limit: int = 160) -> str:
    return " ".join(text.split())[:limit]
