"""Re-render every post and bio after the Markdown renderer or its allowlist changed."""
from django.core.management.base import BaseCommand

from forum import search, services


class Command(BaseCommand):
    help = "Render all posts and bios again and store the HTML that changed (dry run unless --apply)."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Store the new HTML; without it, only count.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--reindex", action="store_true", help="Also rebuild the search index.")

    def handle(self, *args, apply, batch_size, reindex, **options):
        counts = services.posts_rerender(apply=apply, batch_size=batch_size, stdout=self.stdout)
        verb = "changed" if apply else "would change"
        self.stdout.write(
            f"Checked {counts['checked']}, {verb} {counts['changed']}, refused by the renderer {counts['failed']}."
        )
        if not apply:
            self.stdout.write("Dry run: nothing was stored. Run again with --apply.")
        if reindex and apply:
            self.stdout.write(f"Reindexed {search.rebuild_index()} posts for search.")
