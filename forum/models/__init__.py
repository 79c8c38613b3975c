"""The forum's models, one module per subject, re-exported here."""
from .content import Category, Post, PostRevision, Topic, TopicEvent
from .people import TermsAcceptance, TermsVersion, User
from .reading import (
    Bookmark,
    CategoryNotificationSetting,
    NotificationLevel,
    PostLike,
    TagNotificationSetting,
    TopicNotificationSetting,
    TopicRead,
)

__all__ = [
    "Bookmark", "Category", "CategoryNotificationSetting", "NotificationLevel", "Post", "PostLike",
    "PostRevision", "TagNotificationSetting", "TermsAcceptance", "TermsVersion", "Topic", "TopicEvent",
    "TopicNotificationSetting", "TopicRead", "User",
]
