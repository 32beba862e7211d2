"""Hostile addresses: every page answers a malformed query string with 400 or a sane page,
never a 500, and answers HEAD like GET. Run on PostgreSQL too (`-m postgres` is not needed:
the same tests run on whichever database DATABASE_URL names)."""

import pytest

from tests.test_view_permissions import MATRIX, WRONG_METHOD, url_of

pytestmark = pytest.mark.django_db

HOSTILE_QUERIES = [
    "since=%00",
    "since=2024-13-45T99:99:99",
    "since=2024-02-30T10:00",
    "page=%00",
    "page=99999999999999999999999999",
    "page=-1",
    "step=99999999999999999999999999",
    "step=%C2%B2",
    "step=%00",
    "subject=%00%7C%00",
    "subject=" + "x" * 5000,
    "repository=%00",
    "repository=" + "r" * 400,
    "q=%00",
    "actor=%FF%FE",
    "action=%00",
    "format=csv&chart=%00",
    "format=csv&chart=" + "c" * 400,
    "%00=1",
]
# Every page of the permission matrix (the URL resolver's list), public ones aside.
ALL_PAGES = [name for name, row in MATRIX.items() if row.get != WRONG_METHOD and not row.public]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_malformed_query_strings_give_400_or_a_page(login, registered, page):
    client = login("admin")
    address = url_of(page)
    for query in HOSTILE_QUERIES:
        response = client.get(f"{address}?{query}")
        assert response.status_code in (200, 302, 400, 404), (query, response.status_code)
        if "%00" in query:
            assert response.status_code == 400, query


@pytest.mark.parametrize("page", ALL_PAGES)
def test_head_answers_like_get_without_a_body(login, registered, page):
    client = login("admin")
    address = url_of(page)
    get = client.get(address)
    head = client.head(address)
    assert head.status_code == get.status_code
    body = b"".join(head.streaming_content) if head.streaming else head.content
    assert body == b""


def test_a_nul_byte_in_the_path_is_400(login, registered):
    assert login("viewer").get("/pipeline%00/branches/").status_code in (400, 404)


def test_an_impossible_freeze_date_is_refused_with_a_reason(login, registered):
    response = login("admin").post_form(
        url_of("freeze_create"),
        {"starts_at": "2024-13-45 10:00", "ends_at": "2024-02-30 10:00", "reason": "x"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"must be a date and time" in response.content
