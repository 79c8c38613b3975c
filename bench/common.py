"""What bench/seed.py and bench/run.py share: the synthetic vocabulary, names, and Django set-up.

Nothing here touches the database at import time, so either script can import it first.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Usernames are `bench_user_<n>`, n from 1; n = 1 writes the most (authors follow a power law).
USERNAME = "bench_user_{}"
# seed.py makes every third person a volunteer (bench_user_1, _4, _7...); this one gets expertise tags that match
# many requests and as many active claims as one may hold: who run.py signs in as for "my claims" and "matches".
VOLUNTEER = USERNAME.format(4)
DISPLAY_NAME = "Bench User {}"
PASSWORD = "bench-password-not-secret"  # every bench account has it
CATEGORY_SLUG = "bench-category-{}"
TAG_PREFIX = "bench-"

BASE_WORDS = """
data request dataset cohort patient sample variable column table analysis model regression survival
imaging genome sequencing variant protein expression pathway clinical trial outcome exposure baseline
follow visit hospital ward admission discharge record consent ethics anonymise identifier release
licence license attribution notebook script pipeline workflow container package version dependency
python notebook plot figure histogram boxplot scatter heatmap cluster embedding dimension component
variance median quantile outlier missing impute normalise scale filter merge join pivot schema format
csv parquet json excel spreadsheet database query index join window aggregate count rate ratio odds
hazard risk confidence interval bootstrap permutation bayesian prior posterior likelihood estimate
bias confounder adjustment matching propensity weighting stratify subgroup interaction sensitivity
specificity accuracy recall precision threshold curve calibration validation external internal
training test split fold epoch batch gradient loss network layer feature label annotation segment
scan slice voxel pixel contrast dose therapy placebo control randomise blind protocol register
volunteer requester moderator help question answer solved thanks deadline review upload download
""".split()
SYLLABLES = "ba ce di fo gu ha ke li mo nu pa re si to vu ze ra lo mi ne ta ko su".split()
ENDINGS = "ol ix um on ar el ine ose ase ite".split()
VOCABULARY_SIZE = 3000


def vocabulary() -> list[str]:
    """A fixed list of words, most frequent first: the same on every run, whatever the seed."""
    rng = random.Random(0)
    words = list(dict.fromkeys(BASE_WORDS))
    seen = set(words)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) + rng.choice(ENDINGS)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_cum_weights(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/(rank+1)^exponent for random.choices: a few items get most of the picks."""
    total = 0.0
    cumulative = []
    for rank in range(n):
        total += 1 / (rank + 1) ** exponent
        cumulative.append(total)
    return cumulative


def search_word() -> str:
    """A word of middling frequency (rank 300 of 3,000: in about 2% of posts), for the search page."""
    return vocabulary()[300]


def setup_django() -> None:
    """Make the project importable and configure Django from the environment (DATABASE_URL, REDIS_URL...)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# Production settings for rendering pages in this process (explain.py, hotspots.py), with the
# anonymous page cache off so every render is a miss.
LOCAL_ENV = {
    "DEBUG": "false", "SECRET_KEY": "bench-only-not-secret-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
    "LOG_LEVEL": "WARNING", "ANONYMOUS_PAGE_CACHE_SECONDS": "0",
}


def setup_page_rendering() -> None:
    """Configure Django as production does, for pages rendered in this process by the test client."""
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    # With DEBUG off, templates need the static files manifest: collected once, where run.py puts it.
    os.environ.setdefault("STATIC_ROOT", "/tmp/helpdesk-bench-static")
    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True)
    setup_django()
