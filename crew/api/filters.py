"""Query-string filters of the list endpoints (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
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


# Ids people type into a query string: anything a database integer cannot hold is a
# 400 with a message, not an overflow deep in the database driver.
DB_INT_MAX = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", DB_INT_MAX)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = IdField


class BoundedModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            text = str(value)
            if not text.isdigit() or not 0 < int(text) <= DB_INT_MAX:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                )
        return super().to_python(value)


class ModelIdFilter(django_filters.ModelChoiceFilter):
    field_class = BoundedModelChoiceField


class ShootRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    department = ModelIdFilter(queryset=Department.objects.all())
    campaign = ModelIdFilter(queryset=Campaign.objects.all())
    assignee = IdFilter(method="filter_assignee", label=_("assigned person (user id)"))
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
    person = IdFilter(field_name="assignments__user", label=_("crew member (user id)"))
    request = IdFilter(field_name="request")
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
