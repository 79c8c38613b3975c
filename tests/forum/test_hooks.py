"""Hooks cannot fail silently: the start-up check catches a misspelt hook, a wrong signature and a
missing privacy gate; tests plug hook modules in and out for a while."""
import types

import pytest
from django.core import checks
from django.core.management import call_command

from anonymization.hooks import ANONYMIZATION
from forum import hooks
from forum.hooks import FORUM, POINTS
from licensing.hooks import LICENSING


def _module(name: str, **functions) -> types.ModuleType:
    module = types.ModuleType(name)
    for function_name, function in functions.items():
        function.__module__ = name
        function.__name__ = function_name
        setattr(module, function_name, function)
    return module


def _ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_project_as_configured_passes_the_check():
    assert hooks.hooks_check() == []
    call_command("check", "--fail-level", "ERROR")


def test_every_app_registers_its_hook_modules_in_code():
    def names(point):
        return [module.__name__ for module in point.modules()]

    assert names(FORUM) == ["requests_board.forum_hooks", "anonymization.forum_hooks", "licensing.forum_hooks"]
    assert names(ANONYMIZATION) == ["requests_board.anonymization_hooks", "licensing.anonymization_hooks"]
    assert names(LICENSING) == ["requests_board.licensing_hooks"]
    assert {point.label for point in POINTS} >= {"forum", "anonymization", "licensing"}


def test_a_misspelt_hook_fails_the_system_check_and_says_what_was_meant():
    def withheld_post(*, request, topic, posts):  # "withheld_posts" with a letter missing
        return set()

    with FORUM.plugged(_module("tests.misspelt_hooks", withheld_post=withheld_post)):
        errors = hooks.hooks_check()
        assert _ids(errors) == ["forum.E102"]
        assert "tests.misspelt_hooks.withheld_post" in errors[0].msg and "'withheld_posts'" in errors[0].hint
        with pytest.raises(Exception, match="withheld_post"):
            call_command("check")


def test_a_hook_with_the_wrong_arguments_fails_the_check():
    def topic_panel(request, topic):  # positional, where the forum passes keywords
        return ""

    with FORUM.plugged(_module("tests.positional_hooks", topic_panel=topic_panel)):
        assert _ids(hooks.hooks_check()) == ["forum.E103"]

    def post_marks(*, request, topic):  # one argument short
        return {}

    with FORUM.plugged(_module("tests.short_hooks", post_marks=post_marks)):
        assert _ids(hooks.hooks_check()) == ["forum.E103"]


def test_a_missing_privacy_hook_fails_the_check():
    with FORUM.unplugged("licensing.forum_hooks"):
        errors = hooks.hooks_check()
    missing = sorted(error.msg.split("'")[1] for error in errors)
    assert set(_ids(errors)) == {"forum.E104"}
    assert missing == ["held_posts_query", "withheld_posts", "withheld_posts_query"]
    with ANONYMIZATION.unplugged("licensing.anonymization_hooks"):
        assert [error.msg.split("'")[1] for error in hooks.hooks_check()] == ["published_withheld"]


def test_a_module_that_cannot_be_imported_fails_the_check():
    with FORUM.plugged("tests.no_such_hooks_module"):
        assert _ids(hooks.hooks_check()) == ["forum.E101"]


def test_private_helpers_and_imported_functions_are_not_taken_for_hooks():
    def _helper():
        return None

    module = _module("tests.helpful_hooks", _helper=_helper)
    module.reverse = checks.register  # imported from elsewhere: its module is not this one
    with FORUM.plugged(module):
        assert hooks.hooks_check() == []


def test_a_plugged_module_takes_part_and_leaves_no_trace():
    def topic_panel(*, request, topic):
        return "<p>synthetic panel</p>"

    module = _module("tests.panel_hooks", topic_panel=topic_panel)
    before = FORUM.providers("topic_panel")
    with FORUM.unplugged("requests_board.forum_hooks"), FORUM.plugged(module):
        assert FORUM.providers("topic_panel") == [module.topic_panel]
        assert hooks.topic_panels(request=None, topic=None) == ["<p>synthetic panel</p>"]
    assert FORUM.providers("topic_panel") == before


def test_asking_for_an_undeclared_hook_is_a_programming_error():
    with pytest.raises(LookupError):
        FORUM.providers("withheld_post")
    with pytest.raises(LookupError):
        with FORUM.unplugged("tests.never_registered"):
            pass
