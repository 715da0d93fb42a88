"""GET /api/v1/requests/{id}/history/: every change, who, when, from, to and the note."""

from datetime import datetime


def test_it_shows_every_step_with_who_and_when(api, make_request):
    request = make_request("shot")
    response = api("health").get(f"/api/v1/requests/{request.pk}/history/")
    assert response.status_code == 200
    rows = response.json()
    steps = [(r["subject"], r["from_status"], r["to_status"], r["actor"]["username"]) for r in rows]
    assert steps == [
        ("request", "", "submitted", "health"),
        ("request", "submitted", "accepted", "press"),
        ("request", "accepted", "scheduled", "press"),
        ("shoot", "", "planned", "press"),
        ("shoot", "planned", "done", "operator"),
        ("request", "scheduled", "shot", "operator"),
    ]
    assert all(datetime.fromisoformat(r["at"]) for r in rows)
    assert rows[1]["actor"]["name"] == "Оксана Мельник"


def test_it_keeps_the_reason_of_a_decline(api, make_request):
    request = make_request("submitted")
    api("press").post(
        f"/api/v1/requests/{request.pk}/decline/", {"note": "Дублює заявку №12"}, format="json"
    )
    last = api("health").get(f"/api/v1/requests/{request.pk}/history/").json()[-1]
    assert (last["to_status"], last["to_display"], last["note"]) == (
        "declined",
        "declined",
        "Дублює заявку №12",
    )


def test_it_answers_404_for_a_missing_request(api, users):
    assert api("press").get("/api/v1/requests/999/history/").status_code == 404
