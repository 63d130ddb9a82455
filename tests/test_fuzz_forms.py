"""Property-based fuzzing of every form and JSON endpoint: random, huge and malformed input never
causes a server error, and a refusal never leaves a partial write.

Every POST route of app.url_map is fuzzed as a user allowed to use it (tests/routes.py), with its
URL naming real objects (the world of tests/test_object_access.py); every GET endpoint that
answers JSON, and every page with a filter form, gets fuzzed query strings. The requests: the
form as its page would submit it, with one or two fields replaced, dropped or repeated; every
field at once set to each kind of bad input; random pairs of its fields and strangers; JSON of
any shape, and valid check-in requests with one key spoiled; bytes that are neither form nor
JSON. The bad input: huge text (100,000 characters), NUL, lone surrogates (as the invalid UTF-8
a hostile client sends, and as JSON escapes), RTL and zero-width marks, emoji, numbers beyond
64 bits, dates like 9999-99-99.

Checks: no 500; an answer that refuses (4xx, or a form page shown again with 200) leaves every
table with the rows it had. A success (2xx JSON, a redirect) may write.

CSRF: the session `app` fixture runs with WTF_CSRF_ENABLED=False (as every test-client test
does), so the fuzzer reaches the validators behind the token; tests/test_health_and_errors.py
covers the CSRF refusal itself. Reproducible and bounded: hypothesis derandomised, no example
database, EXAMPLES_PER_ROUTE random requests per route after the explicit ones.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from app.auth.access import PUBLIC, SIGNED_IN
from app.auth.models import Role
from app.extensions import limiter
from tests.conftest import AuthActions
from tests.routes import ROUTE_TABLE
from tests.test_object_access import CASES, OWNER, World, build_world, row_counts

EXAMPLES_PER_ROUTE = 20
HUGE = 100_000

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "Rina\x00Kartika",
    "\ud800",
    "x\udfffy",
    "\u202eevil\u202c.pdf",
    "\u200b\u200d\ufeff",
    "\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "😀👩‍👩‍👧‍👦🇮🇩",
    "𝕏" * 40,
    "Ω" * HUGE,
    "9" * HUGE,
    "9999-99-99",
    "0000-00-00",
    "2026-02-30",
    "2026-04-14T25:61:00",
    "-1",
    "0",
    "1e309",
    "NaN",
    "-inf",
    str(2**63),
    str(2**64 + 1),
    str(-(2**63) - 1),
    "9" * 40,
    "1.5",
    "0x10",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "{{ 7 * 7 }}",
    "%(name)s",
    "on",
    "y",
    "\r\n\t",
    "a" * 256,
    "USD",
    "IDR",
    "XXX",
    "en",
    "id",
    "zz",
]
# Field names every form may meet, besides its own: the fuzzer also sends strangers.
STRANGERS = ["id", "user_id", "event_id", "status", "roles", "is_admin", "amount_minor", "x"]
JSON_KEYS = ["token", "checkpoint", "nonce", "scanned_at", "client_result", "scans", "day"]

# Any text, lone surrogates (category Cs) and control characters included.
ANY_CHARACTER = st.characters(
    codec=None, categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs"]
)
nasty_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(ANY_CHARACTER, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        nasty_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(JSON_KEYS), children, max_size=4),
    ),
    max_leaves=8,
)


def _encode(value: str) -> str:
    """Percent-encode text as its UTF-8 bytes, lone surrogates included (invalid UTF-8)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _form_body(pairs: list[tuple[str, str]]) -> bytes:
    """An application/x-www-form-urlencoded body, byte for byte as a client could send it."""
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in pairs).encode("ascii")


def _as_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Request arguments posting these pairs as form data."""
    return {"data": _form_body(pairs), "content_type": "application/x-www-form-urlencoded"}


def _as_json(value: Any) -> dict[str, Any]:
    """Request arguments posting this JSON (lone surrogates as \\u escapes)."""
    return {"data": json.dumps(value).encode("ascii"), "content_type": "application/json"}


def _mutated(
    baseline: list[tuple[str, str]], values: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """The form as the page would submit it, with one or two fields replaced, dropped or
    repeated: the other fields valid, so the bad one reaches the deepest check."""
    if not baseline:
        return st.just([])
    change = st.tuples(
        st.integers(0, len(baseline) - 1),
        st.sampled_from(["set", "drop", "twice"]),
        nasty_text if values is None else values,
    )

    def apply(changes: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
        pairs = list(baseline)
        for index, how, value in changes:
            name = baseline[index][0]
            if how == "drop":
                pairs = [pair for pair in pairs if pair[0] != name]
            elif how == "twice":
                pairs.append((name, value))
            else:
                pairs = [(key, value if key == name else old) for key, old in pairs]
        return pairs

    return st.lists(change, min_size=1, max_size=2).map(apply)


def _mutated_json(baseline: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid JSON request with one key replaced by any JSON value, or dropped."""
    keys = sorted(baseline)

    def apply(change: tuple[str, bool, Any]) -> dict[str, Any]:
        key, drop, value = change
        changed = {k: v for k, v in baseline.items() if k != key}
        if not drop:
            changed[key] = value
        return changed

    return st.tuples(st.sampled_from(keys), st.booleans(), json_value).map(apply)


# Every field of a form at once, and every key of a JSON request in turn, get each of these.
EVERY_FIELD = ["\ud800", "\x00", "x" * HUGE, "9999-99-99", str(2**64), "\u202e😀\u200b"]
EVERY_KEY = ["\ud800", 2**70, -1, None, [], {"x": 1}, "\x00"]


def explicit_requests(
    baseline: list[tuple[str, str]], json_baseline: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Requests always tried before the random ones: the categories of bad input, each in
    every field of the form, and in each key of a valid JSON request."""
    requests = []
    if baseline:
        requests += [_as_form([(name, value) for name, _v in baseline]) for value in EVERY_FIELD]
    for key in json_baseline or {}:
        requests += [_as_json({**json_baseline, key: value}) for value in EVERY_KEY]
    return requests


def requests_for(
    baseline: list[tuple[str, str]], json_baseline: dict[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """A request: the page's form with a field or two made bad; random pairs of its fields
    and strangers; JSON of any shape (or a valid JSON request with a bad key); or bytes that
    are neither form nor JSON."""
    field_names = sorted({name for name, _value in baseline})
    names = st.sampled_from(field_names + STRANGERS)
    random_form = st.lists(st.tuples(names, nasty_text), max_size=len(field_names) + 4)
    any_json = st.one_of(
        st.dictionaries(st.one_of(names, st.sampled_from(JSON_KEYS)), json_value, max_size=6),
        json_value,
    )
    garbage = st.sampled_from(
        [
            {"data": b"\xff\xfe\x00garbage", "content_type": "application/x-www-form-urlencoded"},
            {"data": b"{not json", "content_type": "application/json"},
            {"data": b"--x\r\n\r\n", "content_type": "multipart/form-data; boundary=x"},
            {"data": b"a=1", "content_type": "text/plain"},
        ]
    )
    choices = [
        _mutated(baseline).map(_as_form),
        _mutated(baseline).map(_as_form),
        random_form.map(_as_form),
        any_json.map(_as_json),
        garbage,
    ]
    if json_baseline is not None:
        choices += [_mutated_json(json_baseline).map(_as_json)] * 3
    return st.one_of(*choices)


def _query(pairs: list[tuple[str, str]]) -> str:
    """A query string, byte for byte as a client could send it."""
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in pairs)


def query_strings(baseline: list[tuple[str, str]] = ()) -> st.SearchStrategy[str]:
    """A query string: a filter form's fields with one or two spoiled, or nasty values under
    its names and those the JSON endpoints read. (Short values: a URL has a length limit.)"""
    own = sorted({name for name, _value in baseline})
    names = st.sampled_from([*own, *JSON_KEYS, "q", "page", "since", "kind", "name"])
    short = nasty_text.filter(lambda value: len(value) < 2000)
    random_pairs = st.lists(st.tuples(names, short), max_size=5)
    return st.one_of(random_pairs, _mutated(list(baseline), short)).map(_query)


# --- who posts, and where -------------------------------------------------------------------

STAFF_PREFERENCE = (Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER, Role.GATE_STAFF)
# Run last: they end the objects (or the account) the other routes use.
ENDING = re.compile(r"delete|revoke|cancel|erase|reject|decline|withdraw|logout")


def persona_for(endpoint: str) -> Role | None:
    """Someone allowed to use the route: a staff role, the delegate, or nobody signed in."""
    audience = ROUTE_TABLE[endpoint][0]
    if audience == PUBLIC or (isinstance(audience, tuple) and PUBLIC in audience):
        # The check-in API takes a device token; a signed-in organiser reaches its checks.
        return Role.ORGANISER if endpoint.startswith("checkin.post_scan") else None
    if audience == SIGNED_IN:
        return Role.ADMIN
    for role in STAFF_PREFERENCE:
        if role in audience:
            return role
    return Role.DELEGATE


def url_args(endpoint: str, world: World) -> dict[str, Any]:
    """The route's URL arguments: a real object's where it names one."""
    if endpoint in CASES:
        return CASES[endpoint].args(world)
    return {
        key: world.ids["owner_user"] if value == "{own_id}" else value
        for key, value in ROUTE_TABLE[endpoint][1].items()
    }


# Valid bodies of the JSON endpoints, for the fuzzer to spoil one key at a time.
VALID_SCAN = {"token": "K" * 107, "checkpoint": "entrance", "nonce": "fuzz-0001"}
JSON_BASELINES = {
    "checkin.post_scan": VALID_SCAN,
    "checkin.post_scan_batch": {"scans": [VALID_SCAN, {**VALID_SCAN, "nonce": "fuzz-0002"}]},
}

# GET endpoints answering JSON whose URL does not say so.
JSON_GETS = {"checkin.scanner_data", "checkin.search_badges"}


def answers_json(rule: Any) -> bool:
    """Whether a GET route answers JSON."""
    return (
        rule.endpoint.endswith("_json")
        or rule.rule.endswith(".json")
        or rule.rule.startswith("/api/")
        or rule.endpoint in JSON_GETS
    )


def fuzzed_routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method): the POST routes, then the GET-only ones, then the POST routes that
    end objects (or delegate A's data) the others use."""
    posts, gets = set(), set()
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            posts.add(rule.endpoint)
        elif rule.endpoint != "static":
            gets.add(rule.endpoint)
    ending = sorted(
        (e for e in posts if ENDING.search(e)), key=lambda e: (e == "registration.erase_my_data", e)
    )
    return [
        *((e, "POST") for e in sorted(posts - set(ending))),
        *((e, "GET") for e in sorted(gets)),
        *((e, "POST") for e in ending),
    ]


# Pages whose forms post to routes that have no page of their own (actions on an object).
HOST_PAGES = (
    "agreements.show_agreement",
    "partners.show_partner",
    "badges.list_badges",
    "checkin.list_checkpoints",
    "checkin.list_devices",
    "payments.show_voucher",
    "payments.show_payment",
    "payments.refund_requests",
    "payments.list_bank_transfers",
    "payments.pay",
    "programme.timetable",
    "programme.list_rooms",
    "programme.list_tracks",
    "programme.list_speakers_admin",
    "programme.my_agenda",
    "registration.show_registration",
    "registration.my_registration",
)


class FormReader(HTMLParser):
    """The forms of a page, by the path they post to ("" for the page itself), each as the
    pairs a browser would submit untouched: its fields with their current values. Filter
    forms (method="get") are kept apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self.get_forms: dict[str, list[tuple[str, str]]] = {}  # filters: method="get"
        self._form: list[tuple[str, str]] | None = None
        self._select: tuple[str, bool, list[str], list[str]] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a form, or take a field of the open one."""
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            kept = self.get_forms if found.get("method", "").lower() == "get" else self.forms
            self._form = kept.setdefault(found.get("action", "").split("?")[0], [])
        elif tag == "option" and self._select is not None:
            _name, _multiple, options, chosen = self._select
            options.append(found.get("value", ""))
            if "selected" in found:
                chosen.append(found.get("value", ""))
        elif self._form is None or not found.get("name"):
            return
        elif tag == "input":
            kind = found.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in found:
                return
            self._form.append(
                (found["name"], found.get("value", "y" if kind == "checkbox" else ""))
            )
        elif tag == "select":
            self._select = (found["name"], "multiple" in found, [], [])
        elif tag == "textarea":
            self._textarea = [found["name"], ""]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closed <input />."""
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        """A textarea's text."""
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        """Close a form, a select (its chosen options) or a textarea."""
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple, options, chosen = self._select
            values = chosen or (options[:1] if options and not multiple else [])
            self._form.extend((name, value) for value in values)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None


def form_page(client: FlaskClient, url: str) -> FormReader | None:
    """The forms of the page at url, or None when it is not an HTML page (a file, an error)."""
    response = client.get(url)
    page = response.get_data()
    response.close()
    if response.status_code != 200 or response.mimetype != "text/html":
        return None
    return read_forms(page.decode())


def read_forms(page: str) -> FormReader:
    """A page's forms, read."""
    reader = FormReader()
    reader.feed(page)
    return reader


def forms_by_action(page: str) -> dict[str, list[tuple[str, str]]]:
    """The forms of a page that post, by the path they post to."""
    return read_forms(page).forms


# --- the database ---------------------------------------------------------------------------


def _refused(method: str, status: int, response_is_json: bool) -> bool:
    """Whether an answer refuses: 4xx, or (for a form) the page shown again."""
    if 400 <= status < 500:
        return True
    return method == "POST" and status == 200 and not response_is_json


# Routes whose success is a page (200) rather than a redirect, and what it may write.
WRITES_WHEN_SHOWN = {
    # The passport number is shown on the answering page, and each look at it is logged.
    "registration.reveal_passport": {"passport_access_log", "audit_entries"},
    # A new device's token is shown once, on the answering page (never kept for a redirect).
    "checkin.issue_device": {"gate_devices", "audit_entries"},
    # New recovery codes are shown once, on the answering page (and the request is logged).
    "auth.regenerate_recovery_codes": {"recovery_codes", "audit_entries", "sign_in_throttles"},
    # A refused sign-in is counted (growing delays): the form shown again writes its counter.
    # So is a wrong current password confirming a second-factor or password change.
    "auth.login": {"sign_in_throttles"},
    "auth.account": {"sign_in_throttles"},
    "auth.second_factor": {"sign_in_throttles"},
    "auth.two_factor_setup": {"sign_in_throttles"},
    "auth.disable_two_factor": {"sign_in_throttles"},
}


@pytest.fixture
def world(app, make_user) -> World:
    """The objects the URLs name."""
    return build_world(app, make_user)


def _client_as(app: Flask, make_user, persona: Role | None, world: World) -> FlaskClient:
    """A fresh client signed in as a new user of the role (the delegate: delegate A)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if persona is None:
        return client
    email = world.emails[OWNER] if persona == Role.DELEGATE else make_user(roles=[persona]).email
    response = AuthActions(client, make_user, app).login(email)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _send(client: FlaskClient, method: str, url: str, **kwargs: Any) -> tuple[int, bool, str]:
    """Status, whether JSON, and the start of the body (the response read and closed)."""
    response = client.open(url, method=method, **kwargs)
    body = response.get_data(as_text=True)
    response.close()
    return response.status_code, response.is_json, body[:300]


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz_route(
    app: Flask,
    client: FlaskClient,
    endpoint: str,
    method: str,
    url: str,
    strategy: st.SearchStrategy[Any],
    explicit: list[Any],
) -> str | None:
    """Fuzz one route (the explicit requests first); say what went wrong, if anything."""
    allowed_writes = WRITES_WHEN_SHOWN.get(endpoint, set())

    @FUZZ_SETTINGS
    @given(request=strategy)
    def one_request(request: Any) -> None:
        before = row_counts(app)
        if method == "POST":
            status, is_json, body = _send(client, "POST", url, **request)
        else:
            status, is_json, body = _send(client, "GET", f"{url}?{request}")
        assert status < 500, f"{status}: {body}"
        if _refused(method, status, is_json):
            after = row_counts(app)
            changed = {t for t in after if after[t] != before[t]} - allowed_writes
            assert not changed, f"{status} but rows changed in {sorted(changed)}"

    for request in explicit:
        one_request = example(request=request)(one_request)
    try:
        one_request()
    except Exception as error:  # one report for every route, not the first only
        return f"{method} {url} ({endpoint}): {error}"
    return None


def action_forms(app: Flask, make_user, world: World) -> dict[str, list[tuple[str, str]]]:
    """The forms on the host pages, by the path they post to."""
    forms: dict[str, list[tuple[str, str]]] = {}
    clients: dict[Role | None, FlaskClient] = {}
    for endpoint in HOST_PAGES:
        persona = persona_for(endpoint)
        if persona not in clients:
            clients[persona] = _client_as(app, make_user, persona, world)
        client = clients[persona]
        with app.test_request_context():
            url = app.url_for(endpoint, **url_args(endpoint, world))
        response = client.get(url)
        assert response.status_code == 200, (endpoint, response.status_code)
        forms.update(forms_by_action(response.get_data(as_text=True)))
    return forms


def test_no_input_causes_a_server_error_or_a_partial_write(app, world, make_user, monkeypatch):
    # Background jobs (badge PDFs) run inline: a thread would write while rows are counted.
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)
    forms = action_forms(app, make_user, world)
    problems: list[str] = []
    for endpoint, method in fuzzed_routes(app):
        with app.app_context():
            limiter.reset()  # a rate limit's 429 would hide what lies behind it
        client = _client_as(app, make_user, persona_for(endpoint), world)
        args = url_args(endpoint, world)
        if endpoint == "auth.edit_user":
            # An account of its own to fuzz: delegate A's must stay usable for later routes.
            args = {"user_id": make_user(roles=[Role.GATE_STAFF]).id}
        with app.test_request_context():
            url = app.url_for(endpoint, **args)
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        read = form_page(client, url) if "GET" in rule.methods else None
        if method == "POST":
            own = read.forms.get(url) or read.forms.get("") if read else None
            baseline = own or forms.get(url, [])
            json_baseline = JSON_BASELINES.get(endpoint)
            strategy = requests_for(baseline, json_baseline)
            explicit = explicit_requests(baseline, json_baseline)
        elif answers_json(rule) or (read and read.get_forms):
            filters = read.get_forms.get(url) or read.get_forms.get("") if read else None
            strategy, explicit = query_strings(filters or []), []
        else:
            continue  # a page without filters or JSON: nothing to fuzz
        problem = fuzz_route(app, client, endpoint, method, url, strategy, explicit)
        if problem:
            problems.append(problem)
    assert problems == [], "\n\n".join(problems)


def test_the_fuzzer_reads_forms_as_a_browser_would_submit_them(app, world, make_user):
    client = _client_as(app, make_user, Role.REGISTRY_OFFICER, world)
    with app.test_request_context():
        edit_url = app.url_for("partners.edit_partner", partner_id=world.partner)
    submitted = dict(forms_by_action(client.get(edit_url).get_data(as_text=True))[""])
    assert submitted["name"] == "Lembaga Bantuan Hukum"
    assert submitted["kind"] == "ngo"
    assert submitted["country"] == "ID"
    # Posted untouched, the form is valid: the fuzzer's one bad field is the only fault.
    assert client.post(edit_url, data=submitted).status_code == 302
    filters = form_page(client, "/partners/").get_forms
    assert "q" in {name for fields in filters.values() for name, _value in fields}
    forms = action_forms(app, make_user, world)
    with app.test_request_context():
        status_url = app.url_for("agreements.change_status", agreement_id=world.agreement)
    assert forms[status_url]
    assert _form_body([("name", "\ud800\x00")]) == b"name=%ED%A0%80%00"
