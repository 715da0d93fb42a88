"""manage.py reprocess --purpose P ASSET…: re-run a purpose, swapping outputs atomically."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from media_pipeline import services
from media_pipeline.models import MediaAsset


class Command(BaseCommand):
    help = (
        "Re-run one purpose's processing for the given media assets (e.g. after changing "
        "the ladder). The current outputs stay in use until the new set is complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("assets", nargs="+", help="media asset ids")
        parser.add_argument("--purpose", required=True, help="footage, review or publish")

    def handle(self, *args: Any, **options: Any) -> None:
        purpose: str = options["purpose"]
        try:
            services.require_purpose(purpose)
        except services.UnknownPurpose as exc:
            raise CommandError(str(exc)) from None
        assets = []
        for ident in options["assets"]:
            try:
                assets.append(MediaAsset.objects.get(pk=ident))
            except (MediaAsset.DoesNotExist, ValidationError):
                raise CommandError(f"no media asset {ident}") from None
        for asset in assets:
            with transaction.atomic():
                job = services.reprocess(asset, purpose)
            job.refresh_from_db()
            state = "already processing" if job.status == "processing" else "queued"
            self.stdout.write(f"{asset.pk} {purpose}: {state}")
