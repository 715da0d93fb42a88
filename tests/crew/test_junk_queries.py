"""Pages given nonsense in their query string answer a page or a 4xx, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

JUNK = ["x", "-1", "99999999999999999999", "2026-13-45", "%00", "<script>", "1e309", "[]"]
PAGES = [
    ("crew:board", ["q", "department", "campaign", "assignee", "date_from", "date_to", "overdue"]),
    ("crew:request_list", ["q", "status", "department", "page", "date_from"]),
    ("crew:calendar", ["date", "view", "person"]),
    ("crew:my_work", ["page"]),
    ("crew:notifications", ["page"]),
    ("public:videos", ["q", "department", "campaign", "page"]),
    ("public:feed_rss", ["q", "campaign"]),
    ("public:feed_json", ["q", "campaign"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,params", PAGES)
def test_it_never_answers_500_to_junk_in_the_query(name, params, users, make_request):
    make_request("published")
    client = Client(raise_request_exception=False)
    client.force_login(users["press"])
    url = reverse(name)
    for param in params:
        for value in JUNK:
            response = client.get(url, {param: value})
            assert response.status_code < 500, (url, param, value, response.status_code)


API = [
    ("/api/v1/requests/", ["department", "campaign", "assignee", "priority", "page", "date_from"]),
    ("/api/v1/shoots/", ["person", "request", "date_from", "date_to"]),
    ("/api/v1/departments/", ["kind", "page"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url,params", API)
def test_the_api_never_answers_500_to_junk_in_the_query(url, params, api, make_request):
    make_request("scheduled")
    client = api("press")
    for param in params:
        for value in JUNK:
            response = client.get(url, {param: value})
            assert response.status_code < 500, (url, param, value, response.status_code)
