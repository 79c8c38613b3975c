"""Create demo categories, one account per role and a few synthetic data requests.

It lives in requests_board, the app that depends on all others, so it can seed each of them.

Safe to run twice: whatever exists is left as it is. Prints the demo accounts.
All people and data here are invented.
"""
import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from forum import services
from forum.models import Category, User
from forum.permissions import Role
from forum.selectors import terms_current
from requests_board import services as request_services
from requests_board.models import DataRequest

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

# slug, title, question, modality, size, links, result wanted, result type, days to deadline, expertise, patient data
REQUESTS = [
    ("epidemiology-modelling", "Estimate the incubation period from 120 synthetic case reports",
     "I have a CSV of 120 *synthetic* case reports with the exposure window and the day symptoms began. "
     "How long is the incubation period, and how sure can we be?",
     "tabular", "small", ["https://zenodo.org/records/0000001"],
     "The median incubation period and its 95% interval, with a short explanation I can quote.",
     "answer", 14, ["statistics", "epidemiology"], "no"),
    ("imaging", "Segment lung opacities in 40 synthetic chest CT scans",
     "40 *synthetic* chest CT volumes (NIfTI), already de-identified. I would like the ground-glass "
     "opacities outlined and the affected lung fraction per scan.",
     "imaging", "large", ["https://figshare.com/articles/dataset/demo/0000002"],
     "A table with one row per scan and the affected fraction, plus the code.",
     "dataset", None, ["imaging", "segmentation"], "no"),
    ("genomics", "Which variants go with severe outcome in a synthetic cohort?",
     "A *synthetic* VCF for 500 individuals and a table of outcomes. Which variants are associated "
     "with a severe course, after correcting for multiple testing?",
     "sequences", "medium", ["https://github.com/example/synthetic-cohort"],
     "A table of variants with p-values and a Manhattan plot.", "figure", 30, ["genomics", "statistics"], "no"),
    ("data-requests", "A weekly chart of ICU bed occupancy from spreadsheets",
     "Weekly spreadsheets of *synthetic* bed counts from five wards. I need a small tool that merges "
     "them and draws occupancy over time.",
     "tabular", "small", [], "Software I can run myself each week.", "software", None,
     ["data-cleaning", "visualization"], "no"),
    ("data-requests", "Ward admissions spreadsheet that may contain identifiers",
     "This *synthetic* spreadsheet may include names and dates of birth. Please check it before anything "
     "is shared, then estimate the weekly admissions.",
     "tabular", "small", [], "A figure of admissions per week.", "figure", 21, ["statistics"], "unsure"),
    ("citizen-science", "Label 500 synthetic chest X-rays: opacity or not",
     "500 *synthetic* chest X-rays need a yes/no label for visible opacity. Take a block of 50 images; "
     "no special expertise needed beyond care.",
     "imaging", "medium", ["https://osf.io/demo0"], "A CSV with one label per image.", "dataset", None,
     ["labelling", "imaging"], "no"),
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
                # Demo accounts stand for people who have taken part for a while (trust level 2).
                user = User.objects.create_user(
                    username=username, email=email, password=password, is_staff=staff, trust_level=2,
                )
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                services.user_signup_complete(
                    user=user, display_name=display_name,
                    roles=[r for r in roles if r in (Role.REQUESTER, Role.VOLUNTEER)], terms_version=terms,
                )
                for role in roles:
                    if role not in (Role.REQUESTER, Role.VOLUNTEER):
                        services.role_grant(actor=None, user=user, role=role)
                services.digest_subscription_for_account(user=user)  # as confirming the address would
            users[username] = user
        return users

    def _requests(self, categories, users):
        if not Category.objects.filter(slug="chest-ct").exists():
            services.category_create(
                name="Chest CT", slug="chest-ct", color="#6d28d9", parent=categories["imaging"], position=0,
                description="Requests about chest CT series: segmentation, scoring, cohorts.",
            )
        requester, volunteer = users["demo_requester"], users["demo_volunteer"]
        if not volunteer.expertise.exists():
            services.profile_update(
                actor=volunteer, user=volunteer, display_name=volunteer.display_name, affiliation="Demo University",
                orcid="", bio="I like survival models and clean data.", expertise=["statistics", "epidemiology"],
                roles=[Role.VOLUNTEER],
            )
        created = []
        today = datetime.date.today()
        for (slug, title, question, modality, size, links, wanted, result_type, days, expertise,
             patient_data) in REQUESTS:
            if DataRequest.objects.filter(author=requester, title=title).exists():
                continue
            created.append(request_services.request_submit(actor=requester, publish=True, details={
                "title": title, "question": question, "category": categories[slug], "modality": modality,
                "data_size": size, "data_links": links, "result_description": wanted, "result_type": result_type,
                "deadline": today + datetime.timedelta(days=days) if days else None, "expertise": expertise,
                "serves_covid": True, "patient_data": patient_data, "data_license": "CC-BY-SA-4.0",
            }))
        if not created:
            return
        # A claimed request with a conversation, so the demo shows claims, updates, replies and likes.
        first = created[1]
        request_services.request_claim(
            actor=volunteer, data_request_id=first.pk, plan="A U-Net from an open checkpoint, then manual checks.",
        )
        reply = services.post_create(
            actor=volunteer, topic_id=first.topic_id, reply_to_number=1,
            raw="Happy to help, @demo_requester. Could you share the scanner settings?\n\n"
                "```python\nimport nibabel as nib\nscan = nib.load(\"scan-001.nii.gz\")\n```",
        )
        services.post_like(actor=requester, post_id=reply.pk)
        request_services.update_post(
            actor=volunteer, data_request_id=first.pk,
            raw="First pass done on 10 scans; the masks look plausible. Full table by Friday.",
        )
        # A solved request (license badges, attribution, the export bundle) and a result held for its
        # license (results are BSD; the licensing report lists it).
        public = [r for r in created if not r.needs_anonymization and r.pk != first.pk]
        if public:
            solved = public[0]
            request_services.request_claim(actor=volunteer, data_request_id=solved.pk, plan="A quick survival fit.")
            result = request_services.result_deliver(
                actor=volunteer, data_request_id=solved.pk,
                summary="Median 5.1 days (95% CI 4.6 to 5.7) from a log-normal fit; table and figure in the repo.",
                repository_url="https://github.com/example/demo-incubation", license="BSD-3-Clause",
                repository_license="MIT",
            )
            request_services.result_accept(actor=requester, result_id=result.pk)
        if len(public) > 1:
            request_services.request_claim(actor=volunteer, data_request_id=public[1].pk)
            request_services.result_deliver(
                actor=volunteer, data_request_id=public[1].pk, summary="A first table of counts per week.",
                repository_url="https://github.com/example/demo-counts", license="CC-BY-4.0", repository_license="MIT",
            )
        # A file held in quarantine, so the anonymization queue has something to review.
        pending = next((r for r in created if r.needs_anonymization), None)
        if pending is not None:
            request_services.request_attach(actor=requester, data_request_id=pending.pk, file=SimpleUploadedFile(
                "ward_admissions.csv",
                b"patient_name,date_of_birth,ward,days\n"
                b"Jane Testpatient,1970-01-01,B,4\nJohn Fakeperson,1985-06-15,C,7\n",
            ))
        welcome = services.topic_create(
            actor=users["demo_moderator"], category=categories["site-feedback"],
            title="Welcome: how to ask for help and how to volunteer",
            raw="Start with the [FAQ](/faq/). Ask for help on the [requests board](/requests/); "
                "questions about this site go here.",
            tags=["welcome"],
        )
        services.topic_set_pinned(actor=users["demo_moderator"], topic_id=welcome.pk, pinned=True, globally=True)
