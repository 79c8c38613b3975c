"""Forum views, one module per subject. Each parses input, checks one permission, calls one service or selector."""
from .moderation import (
    account_delete,
    account_export,
    account_settings,
    moderation_log,
    person_moderate,
    post_flag,
    review_action,
    review_edit,
    review_queue,
    site_page,
    spammer_restore,
    terms_page,
)
from .notifications import (
    email_unsubscribe,
    moderator_message,
    newsletter_confirm,
    newsletter_subscribe,
    notification_count,
    notification_list,
    notification_open,
    notification_settings,
    notifications_read,
)
from .pages import healthz, home, profile_detail, profile_edit, terms_accept
from .search import search
from .tokens import api_token_revoke, api_tokens
from .topics import (
    bookmark_list,
    category_detail,
    notification_level,
    post_bookmark,
    post_delete,
    post_edit,
    post_like,
    post_permalink,
    post_restore,
    post_revisions,
    preview,
    tag_detail,
    topic_create,
    topic_detail,
    topic_list,
    topic_moderate,
    topic_move,
    topic_reply,
    topic_unread,
)

__all__ = [
    "api_token_revoke", "api_tokens",
    "account_delete", "account_export", "account_settings", "moderation_log", "person_moderate", "post_flag",
    "review_action", "review_edit", "review_queue", "site_page", "spammer_restore", "terms_page",
    "email_unsubscribe", "moderator_message", "newsletter_confirm", "newsletter_subscribe", "notification_count",
    "notification_list", "notification_open", "notification_settings", "notifications_read",
    "bookmark_list", "category_detail", "healthz", "home", "notification_level", "post_bookmark", "post_delete",
    "post_edit", "post_like", "post_permalink", "post_restore", "post_revisions", "preview", "profile_detail",
    "profile_edit", "search", "tag_detail", "terms_accept", "topic_create", "topic_detail", "topic_list",
    "topic_moderate", "topic_move", "topic_reply", "topic_unread",
]
