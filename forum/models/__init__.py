"""The forum's models, one module per subject, re-exported here."""
from .content import Category, Post, PostRevision, Topic, TopicEvent
from .moderation import Flag, ModerationLogEntry, ReviewItem, SitePage
from .notifications import (
    DigestDelivery,
    DigestSubscription,
    EmailPreference,
    MailboxStatus,
    Notification,
    OutboundEmail,
)
from .people import TermsAcceptance, TermsVersion, TrustLevel, User
from .reading import (
    Bookmark,
    CategoryNotificationSetting,
    NotificationLevel,
    PostLike,
    TagNotificationSetting,
    TopicNotificationSetting,
    TopicRead,
)
from .tokens import ApiToken

__all__ = [
    "ApiToken", "Bookmark", "Category", "CategoryNotificationSetting", "DigestDelivery", "DigestSubscription",
    "EmailPreference", "Flag", "MailboxStatus", "ModerationLogEntry", "Notification", "NotificationLevel",
    "OutboundEmail", "Post", "PostLike", "PostRevision", "ReviewItem", "SitePage", "TagNotificationSetting",
    "TermsAcceptance", "TermsVersion", "Topic", "TopicEvent", "TopicNotificationSetting", "TopicRead",
    "TrustLevel", "User",
]
