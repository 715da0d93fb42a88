"""seed_demo [--password P]: the demo city's people, and requests in every state.

Every request is walked through crew.workflow by the person who would do each
step, so its audit history is the real one (only the times are spread over the
past weeks, so the board shows realistic ages). Cuts need a video: one short
clip is generated with ffmpeg's lavfi sources under var/demo/ and processed
once, synchronously; without ffmpeg the requests stop at "shot" and the command
says so. Idempotent: a request whose title exists is left alone.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from crew import demo, workflow
from crew.exceptions import ScheduleConflict
from crew.models import Campaign, Channel, Kit, Shoot, ShootRequest, Status, StatusChange
from media_pipeline import ffmpeg

CAMPAIGNS = {
    "smart-city": (
        "Розумне місто",
        "Показати мешканцям е-сервіси: ЦНАП онлайн, е-черга, застосунок міста.",
        "#SmartДрогобич",
    ),
    "safe-school": ("Безпечна школа", "Укриття, харчування та інклюзія у школах громади.", ""),
}
HEALTH, EDUCATION = "Охорона здоров'я", "Освіта"
COMMUNAL, CNAP, SOCIAL = "Комунальне господарство", "ЦНАП", "Соціальний захист"
IT, MAYOR = "ІТ та аналітика", "Апарат міського голови"


@dataclass
class Spec:
    title: str
    department: str
    state: str
    days_ago: int
    location: str = ""
    description: str = ""
    campaign: str | None = None
    priority: int = ShootRequest.Priority.NORMAL
    source: str = ShootRequest.Source.DEPARTMENT
    note: str = ""  # the reason of a decline or a cancel, or the changes asked for
    cancel_after: str = Status.SUBMITTED  # how far a cancelled request got first
    channels: list[str] = field(default_factory=lambda: ["website", "facebook"])


S = Status
REQUESTS = [
    Spec("Відкриття амбулаторії сімейної медицини на вул. Грушевського", HEALTH, S.PUBLISHED, 40,
         "вул. Грушевського, 12", "Нові кабінети, обладнання, графік прийому.",
         channels=["website", "youtube", "facebook"]),
    Spec("Вакцинація від грипу: де щепитися у Дрогобичі", HEALTH, S.IN_REVIEW, 21,
         "Міська лікарня №1", "Пункти щеплень і графік роботи.", priority=3),
    Spec("Новий апарат УЗД у міській лікарні №1", HEALTH, S.SCHEDULED, 9,
         "вул. Шевченка, 21"),
    Spec("День донора: запрошуємо здати кров", HEALTH, S.SUBMITTED, 2,
         "Станція переливання крові"),
    Spec("Пункт незламності при амбулаторії №3", HEALTH, S.DECLINED, 15,
         note="Сюжет про пункти незламності вже вийшов у жовтні."),
    Spec("Ліцей №2: відкриття STEM-лабораторії", EDUCATION, S.APPROVED, 24,
         "Ліцей №2", campaign="safe-school", channels=["website", "youtube"]),
    Spec("Укриття в школі №16: готовність до навчального року", EDUCATION, S.SHOT, 12,
         "Школа №16", campaign="safe-school", priority=3),
    Spec("Підготовка до НМТ: консультації для випускників", EDUCATION, S.SUBMITTED, 1,
         "Гімназія №4"),
    Spec("Шкільне харчування за новими стандартами", EDUCATION, S.CHANGES_REQUESTED, 19,
         "Школа №5", campaign="safe-school", note="Додайте коментар дієтолога і скоротіть вступ."),
    Spec("Інклюзивний клас у гімназії №4", EDUCATION, S.ACCEPTED, 5, "Гімназія №4",
         campaign="safe-school"),
    Spec("ЦНАП: як оформити е-паспорт через Дію", CNAP, S.PUBLISHED, 35,
         "ЦНАП, пл. Ринок, 1", campaign="smart-city",
         channels=["website", "facebook", "telegram", "instagram"]),
    Spec("Е-черга до ЦНАП: запис онлайн за дві хвилини", CNAP, S.EDITING, 14,
         "ЦНАП, пл. Ринок, 1", campaign="smart-city"),
    Spec("Виїзний ЦНАП у старостинських округах", CNAP, S.SCHEDULED, 7, "с. Раневичі"),
    Spec("Ремонт дороги на вул. Стрийській: що зроблено", COMMUNAL, S.PUBLISHED, 30,
         "вул. Стрийська", channels=["website", "facebook"]),
    Spec("Заміна водогону на вул. Трускавецькій", COMMUNAL, S.CANCELLED, 16,
         "вул. Трускавецька", note="Роботи перенесли на весну.", cancel_after=S.SCHEDULED),
    Spec("Новий графік вивезення сміття", COMMUNAL, S.IN_REVIEW, 17, "КП «Дрогобичводоканал»"),
    Spec("Ямковий ремонт: звітуємо про весняні роботи", COMMUNAL, S.ACCEPTED, 4, "вул. Мазепи"),
    Spec("Модернізація вуличного освітлення на площі Ринок", COMMUNAL, S.SHOT, 11,
         "пл. Ринок", source=ShootRequest.Source.RESIDENT),
    Spec("Допомога ВПО: куди звертатися у Дрогобичі", SOCIAL, S.CHANGES_REQUESTED, 20,
         "Управління соцзахисту", note="Уточніть адреси і години прийому в титрах."),
    Spec("Соціальне таксі для людей з інвалідністю", SOCIAL, S.APPROVED, 22,
         "вул. Самбірська, 4"),
    Spec("Пункти обігріву взимку: адреси й графік", SOCIAL, S.SUBMITTED, 3,
         priority=4),
    Spec("Застосунок «Дрогобич Smart» для мешканців", IT, S.PUBLISHED, 45,
         "Міська рада", campaign="smart-city", channels=["website", "youtube", "telegram"]),
    Spec("Електронний квиток у міському транспорті", IT, S.EDITING, 13, "Автовокзал",
         campaign="smart-city"),
    Spec("Відкриті дані міста: новий портал", IT, S.SUBMITTED, 1, campaign="smart-city"),
    Spec("Звіт міського голови за пів року", MAYOR, S.SCHEDULED, 6, "Сесійна зала",
         source=ShootRequest.Source.MAYOR, priority=3),
    Spec("Нагородження волонтерів до Дня міста", MAYOR, S.CANCELLED, 10,
         note="Захід переніс організатор.", source=ShootRequest.Source.MAYOR),
    Spec("Онлайн-запис на прийом до міського голови", MAYOR, S.DECLINED, 8,
         note="Тема увійде до сюжету про е-сервіси.", source=ShootRequest.Source.MAYOR),
]  # fmt: skip

NEEDS_CUT = {S.EDITING, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.PUBLISHED}
NEEDS_PROCESSED = NEEDS_CUT - {S.EDITING}


class Media:
    """The one demo clip, stored once as a cut and once as footage, processed up front."""

    def __init__(self, stdout: Any) -> None:
        self.stdout = stdout
        self.problem = ""
        self.cut: Any = None
        self.footage: Any = None

    def prepare(self, editor: User, operator: User, *, processed: bool) -> None:
        if not (shutil.which(settings.KADR_FFMPEG_BIN) and shutil.which(settings.KADR_FFPROBE_BIN)):
            self.problem = "ffmpeg is not installed"
            return
        from media_pipeline import pipeline, uploads

        clip = self._clip()
        self.cut = self._asset(uploads, clip, editor, "demo-cut.mp4", "review")
        self.footage = self._asset(uploads, clip, operator, "A001_C001.mp4", "footage")
        if processed:
            for asset, purposes in (
                (self.cut, ("review", "publish")),
                (self.footage, ("footage",)),
            ):
                for purpose in purposes:
                    pipeline.process(str(asset.pk), purpose)
            self.cut.refresh_from_db()
            if self.cut.status != "ready":
                self.problem = f"the demo clip failed to process: {self.cut.error}"

    @staticmethod
    def _asset(uploads: Any, clip: Path, user: User, name: str, purpose: str) -> Any:
        from media_pipeline.models import MediaAsset

        existing = MediaAsset.objects.filter(original_name=name, uploaded_by=user).first()
        if existing is not None and existing.status != "failed":
            return existing
        return uploads.create_asset_from_file(
            clip, user=user, original_name=name, purpose=purpose, process=False
        )

    @staticmethod
    def _clip() -> Path:
        path = Path(settings.VAR_DIR) / "demo" / "clip.mp4"
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(ffmpeg.demo_clip_argv(path), check=True, timeout=120)
        return path


class Command(BaseCommand):
    help = "Create the demo departments, people and 20+ requests in every state (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="Password for every demo user and admin (default: the username; "
            "existing users keep theirs unless this is given).",
        )

    def handle(self, *args: Any, password: str | None = None, **options: Any) -> None:
        from config.celery import app

        # Demo history must not mail anyone or queue work for a worker that may not run.
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        trace_log = logging.getLogger("celery.app.trace")
        level = trace_log.level
        trace_log.setLevel(logging.WARNING)
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                self._seed(password)
        finally:
            app.conf.task_always_eager = eager
            trace_log.setLevel(level)

    def _seed(self, password: str | None) -> None:
        self.users = demo.ensure_users(password)
        self.departments = demo.ensure_departments()
        self.channels = demo.ensure_channels()
        self.kit = demo.ensure_kit()
        self._admin(password)
        campaigns = {
            slug: Campaign.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "goal": goal, "hashtag": tag,
                          "starts_on": timezone.localdate() - timedelta(days=60)},
            )[0]
            for slug, (name, goal, tag) in CAMPAIGNS.items()
        }  # fmt: skip
        todo = [s for s in REQUESTS if not ShootRequest.objects.filter(title=s.title).exists()]
        media = Media(self.stdout)
        if any(s.state in NEEDS_CUT for s in todo):
            media.prepare(
                self.users["editor"],
                self.users["operator"],
                processed=any(s.state in NEEDS_PROCESSED for s in todo),
            )
        skipped = []
        for spec in todo:
            if spec.state in NEEDS_CUT and media.problem:
                skipped.append(spec)
                continue
            with transaction.atomic():
                request = self._walk(spec, campaigns.get(spec.campaign or ""), media)
                self._spread_history(request, spec.days_ago)
        self._report(len(todo) - len(skipped), skipped, media.problem, password)

    def _admin(self, password: str | None) -> None:
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@kadr.local"},
        )
        if created or password:
            admin.set_password(password or "admin")
            admin.save()

    # --- one request's life ---------------------------------------------------------------

    def _walk(self, spec: Spec, campaign: Campaign | None, media: Media) -> ShootRequest:
        u = self.users
        press, operator, editor = u["press"], u["operator"], u["editor"]
        requester = next(
            (u[name] for name, row in demo.USERS.items() if row[3] == spec.department), press
        )
        request = workflow.submit_request(
            by=requester,
            channels=[self.channels[slug] for slug in spec.channels],
            title=spec.title,
            description=spec.description,
            department=self.departments[spec.department],
            source=spec.source,
            location=spec.location,
            priority=spec.priority,
            campaign=campaign,
            contact_name=f"{requester.first_name} {requester.last_name}".strip(),
            contact_phone="+380 3244 2 11 33",
            deadline=timezone.localdate() + timedelta(days=14),
        )
        final = spec.state
        if final == S.SUBMITTED:
            return request
        if final == S.DECLINED:
            workflow.decline(request, by=press, note=spec.note)
            return request
        if final == S.CANCELLED and spec.cancel_after == S.SUBMITTED:
            workflow.cancel(request, by=press, note=spec.note)
            return request
        workflow.accept(request, by=press)
        if final == S.ACCEPTED:
            return request
        if final == S.CANCELLED and spec.cancel_after == S.ACCEPTED:
            workflow.cancel(request, by=press, note=spec.note)
            return request
        shoot = self._book(request, spec)
        if final == S.CANCELLED:
            workflow.cancel(request, by=press, note=spec.note)
            return request
        if final == S.SCHEDULED:
            return request
        workflow.complete_shoot(shoot, by=operator, log="Зняли синхрони та перебивки, ~40 хв.")
        if media.footage is not None:
            workflow.attach_footage(shoot, by=operator, asset=media.footage)
        # A done shoot happened in the past; only its window moves, never its state.
        start = timezone.now() - timedelta(days=max(1, spec.days_ago // 2))
        Shoot.objects.filter(pk=shoot.pk).update(
            starts_at=start, ends_at=start + timedelta(hours=2), completed_at=start
        )
        if final == S.SHOT:
            return request
        version = workflow.add_version(request, by=editor, asset=media.cut, notes="Перша версія")
        if final == S.EDITING:
            return request
        workflow.submit_version(version, by=editor)
        if final == S.IN_REVIEW:
            return request
        if final == S.CHANGES_REQUESTED:
            workflow.request_changes(version, by=press, note=spec.note)
            return request
        workflow.approve(version, by=press, note="Погоджено")
        if final == S.APPROVED:
            return request
        for slug in spec.channels:
            workflow.publish(
                request,
                by=press,
                channel=self.channels[slug],
                url=f"https://drohobych-rada.gov.ua/news/demo-{request.pk}-{slug}",
            )
        return request

    def _book(self, request: ShootRequest, spec: Spec) -> Shoot:
        """The first free slot from tomorrow: 09:00 or 14:00 Kyiv time, two hours."""
        crew = [
            workflow.CrewMember(self.users["operator"], "operator"),
            workflow.CrewMember(self.users["journalist"], "journalist"),
        ]
        kit = [self.kit["Sony FX3"], self.kit["Петличка Rode"]]
        for slot in range(200):
            day = timezone.localdate() + timedelta(days=1 + slot // 2)
            start = _at(day, 9 if slot % 2 == 0 else 14)
            try:
                with transaction.atomic():
                    return workflow.schedule(
                        request,
                        by=self.users["press"],
                        starts_at=start,
                        ends_at=start + timedelta(hours=2),
                        crew=crew,
                        location=spec.location,
                        kit=kit,
                        notes="Взяти штатив і петлички.",
                    )
            except ScheduleConflict:
                continue
        raise RuntimeError("no free slot for the demo shoot in 100 days")

    @staticmethod
    def _spread_history(request: ShootRequest, days_ago: int) -> None:
        """Place the audit rows over the past `days_ago` days, keeping their order."""
        rows = list(StatusChange.objects.filter(request=request).order_by("at", "id"))
        created = timezone.now() - timedelta(days=days_ago, hours=3)
        span = (timezone.now() - timedelta(hours=1)) - created
        step = span / max(len(rows), 1)
        for i, row in enumerate(rows):
            StatusChange.objects.filter(pk=row.pk).update(at=created + step * i)
        ShootRequest.objects.filter(pk=request.pk).update(created_at=created)

    def _report(self, made: int, skipped: list[Spec], problem: str, password: str | None) -> None:
        counts = {s.value: ShootRequest.objects.filter(status=s).count() for s in Status}
        self.stdout.write(
            self.style.SUCCESS(f"Demo data: {made} new requests, {sum(counts.values())} in all.")
        )
        self.stdout.write("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
        if skipped:
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {len(skipped)} requests that need a cut, because {problem}; "
                    "install ffmpeg and run seed_demo again to add them."
                )
            )
        names = ", ".join([*demo.USERS, "admin"])
        if password:
            self.stdout.write(f"Logins: {names} — password: {password}")
        else:
            self.stdout.write(
                f"Logins: {names} — new users' password is their username; "
                "existing users keep theirs (use --password to reset)."
            )
        self.stdout.write(f"Channels: {Channel.objects.count()}, kit: {Kit.objects.count()}")


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))
