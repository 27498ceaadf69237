"""Every link and form on the main pages leads somewhere real.

Starting from the public pages (front page, an organization's page, a service's
month and day, the details form, a confirmation, the manage page) and, signed
in as the owner, the dashboard, every same-origin link (and htmx ``hx-get``)
is followed, breadth first: each must answer below 400 (after its redirects).
Every form found on those pages must post to an address that exists and takes
its method (no 404 or 405), and sending it as the page filled it (default
values, each named submit button in turn) must either save (a redirect or a
success page) or answer a readable error: a 4xx page that shows a message.
Never a 500.

Each form is sent inside a savepoint that is rolled back afterwards, with the
client's cookies put back, so one form (a cancel, a delete, signing out) never
changes what the next one finds.

Django's test client and ``html.parser`` do this, no browser: it is fast.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from slotwise.bookings.models import Booking

pytestmark = pytest.mark.django_db

HOST = "testserver"
# Calendars page through weeks and months forever: a few of each address is enough.
QUERIES_PER_PATH = 4
MAX_PAGES = 400
# Not pages: files, feeds and the API answer in their own formats.
NOT_PAGES = re.compile(r"^/(static/|api/|calendars/|metrics|healthz|readyz)")
# Signing out would end the crawl's session; it is sent last, on its own.
SIGN_OUT = "/accounts/logout/"


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    # (name, value) of each named submit button; None stands for "no name".
    buttons: list[tuple[str, str] | None] = field(default_factory=list)

    def key(self) -> tuple:
        names = tuple(sorted({name for name, _ in self.fields}))
        return (self.method, self.action, names, tuple(b for b in self.buttons if b))


class PageParser(HTMLParser):
    """Links, htmx GETs, forms with their default values, and any visible error text."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.errors: list[str] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None
        self._option: str | None = None
        self._textarea: list | None = None
        self._error_depth = 0
        self._depth = 0

    def handle_starttag(self, tag: str, attrs_list: list) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        self._depth += 1
        classes = attrs.get("class", "").split()
        if self._error_depth == 0 and (
            attrs.get("role") == "alert" or "problem" in classes or "errorlist" in classes
        ):
            self._error_depth = self._depth
            self.errors.append("")
        if tag == "a" and "href" in attrs and "download" not in attrs:
            self.links.append(attrs["href"])
        if "hx-get" in attrs:
            self.links.append(attrs["hx-get"])
        if tag == "form":
            self._form = Form(
                page=self.url,
                action=attrs.get("action") or self.url,
                method=(attrs.get("method") or "get").lower(),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append((name, attrs.get("value", "")) if name else None)
            elif kind in ("checkbox", "radio"):
                if name and "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("button", "reset", "file") and name:
                form.fields.append((name, attrs.get("value", "")))
        elif tag == "button":
            if attrs.get("type", "submit").lower() == "submit":
                form.buttons.append((name, attrs.get("value", "")) if name else None)
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            self._option = attrs.get("value")
            if "selected" in attrs:
                self._select[2].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data: str) -> None:
        if self._error_depth:
            self.errors[-1] += data
        if self._option is not None and self._select is not None:
            self._select[1].append(self._option or data.strip())
            self._option = None
        elif self._select is not None and self._option == "":
            pass
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if self._error_depth and self._depth == self._error_depth:
            self._error_depth = 0
        self._depth -= 1
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            chosen = selected[:1] or options[:1]
            for value in chosen:
                self._form.fields.append((name, value))
            self._select = None
        elif tag == "option" and self._option is not None and self._select is not None:
            self._select[1].append(self._option)
            self._option = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None

    def handle_startendtag(self, tag: str, attrs_list: list) -> None:
        self.handle_starttag(tag, attrs_list)
        self._depth -= 1


def same_origin_path(base: str, href: str) -> str | None:
    """The path and query ``href`` points to on this site, or None for elsewhere."""
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    absolute = urldefrag(urljoin(f"http://{HOST}{base}", href))[0]
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.netloc != HOST:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def parse(url: str, html: str) -> PageParser:
    parser = PageParser(url)
    parser.feed(html)
    parser.close()
    return parser


@dataclass
class Crawl:
    pages: dict[str, int] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)
    forms: dict[tuple, Form] = field(default_factory=dict)


def crawl(client: Client, starts: list[str], *, within: str = "/") -> Crawl:
    """Follow links breadth first from ``starts``, only into paths under ``within``."""
    found = Crawl()
    queue = deque((start, "(start)") for start in starts)
    per_path: dict[str, int] = defaultdict(int)
    seen = set()
    while queue and len(found.pages) < MAX_PAGES:
        url, source = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        per_path[path] += 1
        if per_path[path] > QUERIES_PER_PATH:
            continue
        response = client.get(url, follow=True)
        found.pages[url] = response.status_code
        if response.status_code >= 400:
            found.dead.append(f"{url} (linked from {source}) answered {response.status_code}")
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        query = response.request.get("QUERY_STRING", "")
        final = response.request["PATH_INFO"] + (f"?{query}" if query else "")
        page = parse(final, response.content.decode())
        for form in page.forms:
            found.forms.setdefault(form.key(), form)
        for href in page.links:
            target = same_origin_path(final, href)
            if target and target.startswith(within) and not NOT_PAGES.match(target):
                queue.append((target, url))
    return found


def check_form(client: Client, form: Form) -> list[str]:
    """Problems with sending ``form`` as its page filled it, once per submit button."""
    action = same_origin_path(form.page, form.action)
    if action is None:
        return []  # posts elsewhere, e.g. a payment provider
    problems = []
    path = urlsplit(action).path
    try:
        resolve(path)
    except Resolver404:
        return [f"form on {form.page} posts to {action}, which does not exist"]
    for button in form.buttons or [None]:
        data = list(form.fields) + ([button] if button else [])
        label = f"form on {form.page} ({form.method.upper()} {action}" + (
            f", button {button[0]}={button[1]})" if button else ")"
        )
        cookies = SimpleCookie()
        cookies.load({name: morsel.value for name, morsel in client.cookies.items()})
        cache.clear()
        try:
            with transaction.atomic():
                problems.extend(send(client, form, action, data, label))
                raise RolledBack
        except RolledBack:
            pass
        finally:
            client.cookies = cookies
    return problems


FORM = "application/x-www-form-urlencoded"


class RolledBack(Exception):
    """Undoes what a form saved, once it has been checked."""


def send(client: Client, form: Form, action: str, data: list, label: str) -> list[str]:
    if form.method == "post":
        response = client.post(action, urlencode(data), content_type=FORM)
    else:
        joiner = "&" if "?" in action else "?"
        response = client.get(action + joiner + urlencode(data))
    status = response.status_code
    if status in (404, 405) or status >= 500:
        return [f"{label} answered {status}"]
    if 300 <= status < 400:
        target = client.get(response["Location"], follow=True)
        if target.status_code >= 400:
            return [
                f"{label} redirected to {response['Location']}, which answered {target.status_code}"
            ]
    elif status >= 400:
        html = response.content.decode(errors="replace")
        messages = [" ".join(text.split()) for text in parse(action, html).errors]
        if not any(messages):
            return [f"{label} answered {status} with no visible error message"]
    return []


@pytest.fixture
def site(make_org, make_resource, make_service, make_member):
    """A London studio with two people, a room, a free, a paid-at-the-appointment
    and a by-approval service, one booking made through the public pages, and its owner."""
    org = make_org(name="Harbour Studio", slug="harbour", time_zone="Europe/London")
    make_resource(org, name="Amara")
    make_resource(org, name="Ben")
    make_resource(org, name="Pine Room", kind="room")
    make_service(org, name="Consultation", slug="consultation", price_minor=0)
    make_service(org, name="Portrait", slug="portrait", price_minor=9500)
    make_service(org, name="Review", slug="review", requires_approval=True)
    owner = make_member(org, "owner", mfa=True, email="owner@example.com")
    return org, owner


def book_through_pages(client: Client) -> tuple[list[str], str]:
    """Book the consultation as a customer would; the pages passed and the confirmation."""
    service_url = "/book/harbour/consultation/?tz=Asia%2FTokyo"
    page = parse(service_url, client.get(service_url).content.decode())
    days = [link for link in page.links if "date=" in link and "month=" in link and "#" in link]
    if not days:
        next_month = [link for link in page.links if "month=" in link and "date=" not in link]
        page = parse(service_url, client.get(next_month[-1]).content.decode())
        days = [link for link in page.links if "date=" in link and "#" in link]
    day_url = urldefrag(days[0])[0]
    day = parse(day_url, client.get(day_url).content.decode())
    slot = next(link for link in day.links if "/details" in link and "start=" in link)
    details = client.get(slot)
    assert details.status_code == 200
    form = next(f for f in parse(slot, details.content.decode()).forms if f.method == "post")
    data = dict(form.fields) | {"name": "Hana Sato", "email": "hana@example.com"}
    booked = client.post(slot, data)
    assert booked.status_code in (302, 303), booked.content.decode()[:2000]
    return [service_url, day_url, slot], booked["Location"]


def test_public_pages_have_no_dead_links_or_forms(site):
    client = Client(raise_request_exception=False)
    pages, confirmation = book_through_pages(client)
    booking = Booking.objects.get(customer_email="hana@example.com")
    confirmed = client.get(confirmation)
    manage = next(
        same_origin_path(confirmation, link)
        for link in parse(confirmation, confirmed.content.decode()).links
        if "/manage/" in link
    )
    starts = ["/", "/book/harbour/", *pages, confirmation, manage]

    found = crawl(client, starts, within="/")

    assert not found.dead, "dead links:\n" + "\n".join(found.dead)
    for url in starts:
        assert found.pages.get(url, 200) < 400, url
    assert found.forms, "no forms found on the public pages"
    problems = [p for form in found.forms.values() for p in check_form(client, form)]
    assert not problems, "forms that lead nowhere:\n" + "\n".join(problems)
    # The rolled-back forms left the booking as it was.
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_dashboard_has_no_dead_links_or_forms(site, make_booking):
    _org, owner = site
    client = Client(raise_request_exception=False)
    book_through_pages(client)
    client.force_login(owner)

    found = crawl(client, ["/dashboard/"], within="/dashboard/")

    assert found.pages.get("/dashboard/") == 200
    assert not found.dead, "dead links:\n" + "\n".join(found.dead)
    forms = sorted(found.forms.values(), key=lambda f: f.action.endswith(SIGN_OUT))
    problems = [p for form in forms for p in check_form(client, form)]
    assert not problems, "forms that lead nowhere:\n" + "\n".join(problems)


def test_the_parser_finds_links_forms_defaults_and_errors():
    html = """
    <a href="/a/">A</a><a href="https://elsewhere.example/">x</a><a href="#top">t</a>
    <a href="/file.ics" download>f</a><div hx-get="/b/?x=1"></div>
    <form method="post" action="/save">
      <input name="name" value="Ann"><input type="checkbox" name="on" checked>
      <input type="checkbox" name="off"><select name="kind"><option value="a">A</option>
      <option value="b" selected>B</option></select><textarea name="note">hi</textarea>
      <button name="do" value="confirm">Confirm</button><button name="do" value="decline">D</button>
    </form>
    <p class="notice problem">Something is wrong</p>
    """
    page = parse("/here/", html)
    targets = [same_origin_path("/here/", link) for link in page.links]
    assert targets == ["/a/", None, None, "/b/?x=1"]
    (form,) = page.forms
    assert form.method == "post"
    assert form.action == "/save"
    assert form.fields == [("name", "Ann"), ("on", "on"), ("kind", "b"), ("note", "hi")]
    assert form.buttons == [("do", "confirm"), ("do", "decline")]
    assert [" ".join(e.split()) for e in page.errors] == ["Something is wrong"]
