"""Query-string filters of the list endpoints (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination

from crew.models import Campaign, Department, Shoot, ShootRequest, ShootState, Status


def _text_variants(value: str) -> set[str]:
    # SQLite's LIKE folds case for ASCII only; trying the usual spellings keeps
    # "школа" finding "Школа" there too (Postgres folds everything anyway).
    value = value.strip()
    return {value, value.lower(), value.capitalize(), value.upper()} - {""}


def text_query(fields: list[str], value: str) -> Q:
    query = Q()
    for variant in _text_variants(value):
        for field in fields:
            query |= Q(**{f"{field}__icontains": variant})
    return query


class ShootRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all())
    assignee = django_filters.NumberFilter(
        method="filter_assignee", label=_("assigned person (user id)")
    )
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    date_from = django_filters.DateFilter(
        method="filter_date_from", label=_("has a shoot or desired date on or after")
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label=_("has a shoot or desired date on or before")
    )
    search = django_filters.CharFilter(
        method="filter_search", label=_("text in title, description, place or contact")
    )

    class Meta:
        model = ShootRequest
        fields = ["status", "department", "campaign", "priority", "source"]

    def filter_assignee(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        ids = Shoot.objects.exclude(state=ShootState.CANCELLED).filter(assignments__user_id=value)
        return qs.filter(pk__in=ids.values("request_id"))

    def filter_date_from(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs  # applied together with date_to in filter_queryset

    filter_date_to = filter_date_from

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        start, end = self.form.cleaned_data.get("date_from"), self.form.cleaned_data.get("date_to")
        if not start and not end:
            return queryset
        desired, shoots = Q(desired_at__isnull=False), Shoot.objects.all()
        if start:
            desired &= Q(desired_at__date__gte=start)
            shoots = shoots.filter(starts_at__date__gte=start)
        if end:
            desired &= Q(desired_at__date__lte=end)
            shoots = shoots.filter(starts_at__date__lte=end)
        return queryset.filter(desired | Q(pk__in=shoots.values("request_id")))

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return qs
        return qs.filter(text_query(["title", "description", "location", "contact_name"], value))


class ShootFilter(django_filters.FilterSet):
    person = django_filters.NumberFilter(
        field_name="assignments__user", label=_("crew member (user id)")
    )
    request = django_filters.NumberFilter(field_name="request")
    state = django_filters.MultipleChoiceFilter(choices=ShootState.choices)
    date_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")

    class Meta:
        model = Shoot
        fields = ["person", "request", "state"]


class Pagination(PageNumberPagination):
    """`?page=N`, and `?page_size=N` (up to 200) for clients that want fewer round trips."""

    page_size_query_param = "page_size"
    max_page_size = 200
