"""GET /api/v1/departments/ (and the read-only campaign and channel lists)."""

from crew.demo import DEPARTMENTS
from crew.models import Campaign


def test_it_lists_every_department_with_its_kind(api):
    response = api("health").get("/api/v1/departments/")
    assert response.status_code == 200
    names = {row["name"]: row["kind"] for row in response.json()["results"]}
    assert names == dict(DEPARTMENTS)


def test_it_filters_departments_by_kind(api):
    response = api("press").get("/api/v1/departments/", {"kind": "mayor"})
    assert [row["name"] for row in response.json()["results"]] == ["Апарат міського голови"]


def test_it_asks_anonymous_callers_to_log_in(api):
    assert api(None).get("/api/v1/departments/").status_code == 401


def test_it_lists_channels_by_slug(api, channels):
    slugs = [row["slug"] for row in api("editor").get("/api/v1/channels/").json()["results"]]
    assert slugs == ["website", "youtube", "facebook", "telegram", "instagram"]


def test_it_lists_campaigns(api):
    Campaign.objects.create(name="Розумне місто", slug="smart-city", hashtag="#SmartDrohobych")
    rows = api("education").get("/api/v1/campaigns/").json()["results"]
    assert [(row["slug"], row["hashtag"]) for row in rows] == [("smart-city", "#SmartDrohobych")]
