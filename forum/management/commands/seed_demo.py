"""Create demo categories, one account per role and a few synthetic requests.

Safe to run twice: whatever exists is left as it is. Prints the demo accounts.
All people and data here are invented.
"""
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from forum import services
from forum.models import Category, Topic, User
from forum.permissions import Role
from forum.selectors import terms_current

PRIVATE_GROUPS = ("Moderators", "Anonymization team")

CATEGORIES = [
    # slug, name, color, security, description
    ("data-requests", "Data requests", "#1d4ed8", Category.Security.PUBLIC,
     "Ask for help with data: what you have, what you need, in what form, and by when."),
    ("epidemiology-modelling", "Epidemiology & modelling", "#0f766e", Category.Security.PUBLIC,
     "Case counts, transmission models, forecasts and surveillance data."),
    ("imaging", "Imaging", "#7c3aed", Category.Security.PUBLIC,
     "CT, X-ray, microscopy and other image data."),
    ("genomics", "Genomics", "#b45309", Category.Security.PUBLIC,
     "Sequences, variants, expression and other omics data."),
    ("clinical-data", "Clinical data", "#be123c", Category.Security.PUBLIC,
     "De-identified clinical records, trials and outcome data."),
    ("tools-software", "Tools & software", "#334155", Category.Security.PUBLIC,
     "Pipelines, packages and notebooks that others can reuse."),
    ("citizen-science", "Citizen science", "#15803d", Category.Security.PUBLIC,
     "Projects where anyone can contribute observations or analysis."),
    ("anonymization", "Anonymization (private)", "#6b7280", Category.Security.PRIVATE,
     "Data that may identify a patient is reviewed here privately before anything is published."),
    ("site-feedback", "Site feedback", "#64748b", Category.Security.PUBLIC,
     "Ideas, questions and problems with this site."),
]

# username, display name, roles, staff
ACCOUNTS = [
    ("demo_requester", "Clara Clinician (demo)", [Role.REQUESTER], False),
    ("demo_volunteer", "Victor Volunteer (demo)", [Role.VOLUNTEER], False),
    ("demo_moderator", "Mo Moderator (demo)", [Role.MODERATOR], True),
    ("demo_anonymizer", "Ana Anonymizer (demo)", [Role.ANONYMIZATION], False),
]

DEMO_TAGS = {
    "epidemiology-modelling": ["modelling", "time-series"],
    "imaging": ["imaging", "segmentation"],
    "genomics": ["genomics", "sequencing"],
    "data-requests": ["tabular", "statistics"],
}

REQUESTS = [
    ("epidemiology-modelling", "demo_requester",
     "Estimate the incubation period from 120 synthetic case reports",
     "**What I have:** a CSV of 120 *synthetic* case reports (exposure window, symptom onset), "
     "about 8 kB, at https://example.org/demo/incubation.csv.\n\n"
     "**What I need:** an estimate of the incubation period distribution with a 95% interval.\n\n"
     "**Form of the result:** a short answer and a figure.\n\n**By when:** within two weeks."),
    ("imaging", "demo_requester",
     "Segment lung opacities in 40 synthetic chest CT scans",
     "**What I have:** 40 *synthetic* chest CT volumes (NIfTI, about 2 GB), already de-identified.\n\n"
     "**What I need:** a segmentation of ground-glass opacities and the affected lung fraction per scan.\n\n"
     "**Form of the result:** a table with one row per scan, plus the code."),
    ("genomics", "demo_requester",
     "Which variants go with severe outcome in a synthetic cohort?",
     "**What I have:** a *synthetic* VCF for 500 individuals and a table of outcomes.\n\n"
     "**What I need:** an association analysis with correction for multiple testing.\n\n"
     "**Form of the result:** a table of variants and a Manhattan plot."),
    ("data-requests", "demo_requester",
     "A weekly dashboard of ICU bed occupancy from spreadsheets",
     "**What I have:** weekly spreadsheets of *synthetic* bed counts from five wards.\n\n"
     "**What I need:** a small tool that merges them and draws occupancy over time.\n\n"
     "**Form of the result:** software I can run myself."),
    ("anonymization", "demo_requester",
     "Ward admissions spreadsheet that may contain identifiers",
     "This *synthetic* spreadsheet may include names and dates of birth. "
     "Please check it before anything is shared."),
]


class Command(BaseCommand):
    help = "Create demo categories, one account per role and synthetic requests (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo-password-2026",
            help="Password for the demo accounts (default: %(default)s).",
        )
        parser.add_argument(
            "--if-empty", action="store_true",
            help="Create nothing when the site already has categories; only list the demo accounts.",
        )
        parser.add_argument(
            "--allow-production", action="store_true",
            help="Run even with DEBUG off. Demo accounts with known passwords do not belong in production.",
        )

    def handle(self, *args, password, if_empty, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("Refusing to create demo accounts with DEBUG off; pass --allow-production to insist.")
        if if_empty and Category.objects.exists():
            self.stdout.write("The database has data already; no demo data was added.")
        else:
            with transaction.atomic():
                services.roles_sync()
                categories = self._categories()
                users = self._accounts(password)
                self._requests(categories, users)
        users = User.objects.in_bulk([username for username, *_rest in ACCOUNTS], field_name="username")
        if not users:
            return
        self.stdout.write(self.style.SUCCESS("Demo accounts (sign in with the email):"))
        for username, _display_name, roles, _staff in ACCOUNTS:
            user = users.get(username)
            if user is None:
                continue
            role_names = ", ".join(str(role.label) for role in roles)
            self.stdout.write(f"  {user.email:<32} password: {password:<20} role: {role_names}")
        self.stdout.write(
            "  The moderator and anonymization accounts must set up two-factor authentication "
            "(any TOTP app) when they first sign in."
        )

    def _categories(self):
        categories = {}
        for position, (slug, name, color, security, description) in enumerate(CATEGORIES):
            category = Category.objects.filter(slug=slug).first()
            if category is None:
                category = services.category_create(
                    name=name, slug=slug, color=color, security=security, description=description,
                    position=position,
                    group_names=PRIVATE_GROUPS if security == Category.Security.PRIVATE else (),
                    members_start_private_topics=security == Category.Security.PRIVATE,
                )
            categories[slug] = category
        return categories

    def _accounts(self, password):
        terms = terms_current()
        users = {}
        for username, display_name, roles, staff in ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None:
                email = f"{username.replace('_', '.')}@example.org"
                user = User.objects.create_user(username=username, email=email, password=password, is_staff=staff)
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                services.user_signup_complete(
                    user=user, display_name=display_name,
                    roles=[r for r in roles if r in (Role.REQUESTER, Role.VOLUNTEER)], terms_version=terms,
                )
                for role in roles:
                    if role not in (Role.REQUESTER, Role.VOLUNTEER):
                        services.role_grant(actor=None, user=user, role=role)
            users[username] = user
        return users

    def _requests(self, categories, users):
        if not Category.objects.filter(slug="chest-ct").exists():
            services.category_create(
                name="Chest CT", slug="chest-ct", color="#6d28d9", parent=categories["imaging"], position=0,
                description="Requests about chest CT series: segmentation, scoring, cohorts.",
            )
        created = []
        for slug, username, title, body in REQUESTS:
            author = users[username]
            if not Topic.objects.filter(author=author, title=title).exists():
                created.append(services.topic_create(
                    actor=author, category=categories[slug], title=title, raw=body, tags=DEMO_TAGS.get(slug, ()),
                ))
        if not created:
            return
        # A short conversation, so the demo shows replies, mentions, likes and unread counts.
        first = created[0]
        volunteer, requester = users["demo_volunteer"], users["demo_requester"]
        reply = services.post_create(
            actor=volunteer, topic_id=first.pk, reply_to_number=1,
            raw="Happy to help, @demo_requester. Could you share the column dictionary?\n\n"
                "```python\nimport pandas as pd\ncases = pd.read_csv(\"cases.csv\")\n```",
        )
        services.post_like(actor=requester, post_id=reply.pk)
        services.post_like(actor=volunteer, post_id=first.first_post.pk)
        welcome = services.topic_create(
            actor=users["demo_moderator"], category=categories["site-feedback"],
            title="Welcome: how to ask for help and how to volunteer",
            raw="Start with the [FAQ](/faq/). Requests go in #data-requests; questions about this site here.",
            tags=["welcome"],
        )
        services.topic_set_pinned(actor=users["demo_moderator"], topic_id=welcome.pk, pinned=True, globally=True)

