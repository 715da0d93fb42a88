"""manage.py render FILE --out DIR [--purpose P]: the pipeline on a local file, no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_pipeline import ffmpeg, ladder, pipeline, probe


class Command(BaseCommand):
    help = (
        "Run the media pipeline on a local file (no database): renditions, HLS, poster, "
        "thumbnails and storyboard into --out; prints a JSON summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument(
            "--purpose",
            default="publish",
            help="footage, review or publish (default: publish, the full ladder)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["file"]
        purpose: str = options["purpose"]
        try:
            ladder.purpose_settings(purpose)
        except ladder.UnknownPurpose as exc:
            raise CommandError(str(exc)) from None
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        try:
            summary = pipeline.render_file(source, options["out"], purpose)
        except (probe.ProbeRefused, pipeline.PurposeRefused, ffmpeg.FfmpegFailed) as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(f"refused: {reason}") from None
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
