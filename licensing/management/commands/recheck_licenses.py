"""After a change of the licensing policy: check every dataset and result again (dry run without --apply)."""
from django.core.management.base import BaseCommand

from licensing import services


class Command(BaseCommand):
    help = "Queue a new license check of every licensed item, e.g. after changing LICENSING_* settings."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Queue the checks (otherwise only count).")

    def handle(self, *args, apply, **options):
        count = services.items_recheck(apply=apply)
        verb = "Queued a check of" if apply else "Would check (dry run; add --apply)"
        self.stdout.write(f"{verb} {count} licensed items.")
