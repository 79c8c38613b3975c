"""Examples of the requests board's API bodies and responses for the documentation page, attached
by the API's root URLs (config/api_urls.py); the values are synthetic."""
from forum.api.examples import PERSON, WHEN, example

from . import serializers as board

CLAIM = {"id": 31, "volunteer": PERSON, "role": "lead", "part": "", "plan": "A bootstrap estimate by Friday.",
         "expected_date": "2026-11-27", "status": "active", "created_at": WHEN}
REQUEST = {
    "id": 42, "title": "Estimate the incubation period from a case table", "state": "claimed",
    "category": "data-requests", "author": {"username": "sam.requester", "name": "Sam Testclinician"}, "topic": 97,
    "expertise": ["epidemiology", "statistics"], "modality": "tabular", "data_size": "small", "result_type": "answer",
    "deadline": "2026-12-01", "data_license": "CC-BY-SA-4.0", "data_license_state": {"state": "ok", "problems": []},
    "claims": [CLAIM], "created_at": WHEN, "published_at": WHEN, "accepted_at": None,
    "url": "/t/estimate-the-incubation-period/97/",
}
RESULT = {
    "id": 7, "request": 42, "post": 815, "author": PERSON, "summary_html": "<p>Median 5.1 days (95% CI 4.5–5.8).</p>",
    "repository_url": "https://github.com/example/incubation-estimate", "repository_host": "GitHub",
    "license": "BSD-3-Clause", "repository_license": "MIT", "license_state": {"state": "ok", "problems": []},
    "accepted": True, "created_at": WHEN, "accepted_at": WHEN, "url": "/p/815/",
}


def attach() -> None:
    """Attach the board's examples; called once when the API's root URLs load."""
    example(board.RequestSerializer, "A request", REQUEST)
    example(board.RequestDetailSerializer, "A request in full", {
        **REQUEST, "question_html": "<p>We have a table of 300 synthetic cases…</p>",
        "data_links": [{"url": "https://zenodo.org/records/0000000", "host": "Zenodo"}],
        "result_description": "A median with a confidence interval.", "serves_covid": True, "patient_data": None,
        "needs_anonymization": False, "cleared_at": None, "accepted_result": None, "close_reason": "",
        "results": [], "updated_at": WHEN})
    example(board.RequestWriteSerializer, "Publish a request", {
        "title": "Estimate the incubation period from a case table", "category": "data-requests",
        "question": "We have a table of 300 synthetic cases with exposure and onset dates.",
        "modality": "tabular", "data_size": "small", "data_links": ["https://zenodo.org/records/0000000"],
        "result_description": "A median with a confidence interval.", "result_type": "answer",
        "deadline": "2026-12-01", "expertise": ["epidemiology", "statistics"], "serves_covid": True,
        "patient_data": "no", "data_license": "CC-BY-SA-4.0", "publish": True}, request=True, response=False)
    example(board.ClaimSerializer, "A claim", CLAIM)
    example(board.ClaimWriteSerializer, "Claim", {"plan": "A bootstrap estimate by Friday.",
                                                   "expected_date": "2026-11-27"}, request=True, response=False)
    example(board.UpdateWriteSerializer, "Progress", {"raw": "Cleaned the dates; fitting models now."},
             request=True, response=False)
    example(board.ResultSerializer, "A result", RESULT)
    example(board.ResultWriteSerializer, "Deliver", {
        "summary": "Median 5.1 days (95% CI 4.5–5.8).", "repository_url": "https://github.com/example/incubation",
        "license": "BSD-3-Clause", "repository_license": "MIT"}, request=True, response=False)
    example(board.ReasonWriteSerializer, "Withdraw", {"reason": "We found the answer in a paper."},
             request=True, response=False)
    example(board.DatasetSerializer, "A dataset", {
        "request": 42, "title": REQUEST["title"], "category": "data-requests", "modality": "tabular",
        "data_size": "small", "links": [{"url": "https://zenodo.org/records/0000000", "host": "Zenodo"}],
        "license": "CC-BY-SA-4.0", "license_state": {"state": "ok", "problems": []}, "published_at": WHEN,
        "url": REQUEST["url"]})
    example(board.UploadSerializer, "In quarantine", {"id": 9, "state": "scanning",
                                                       "url": "/anonymization/files/9/"})
