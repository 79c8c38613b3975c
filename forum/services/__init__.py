"""Every write in the forum, one module per subject, re-exported here."""
from .accounts import (
    profile_update,
    role_grant,
    roles_sync,
    terms_accept,
    user_set_self_service_roles,
    user_signup_complete,
    welcome_email_queue,
    welcome_email_send,
)
from .content import (
    clean_tags,
    post_create,
    post_delete,
    post_edit,
    post_restore,
    render_post_text,
    screen_fields,
    topic_create,
    topic_mark_read,
)
from .digests import (
    TokenError,
    digest_period,
    digest_prepare,
    digest_subscription_for_account,
    digests_due,
    newsletter_confirm,
    newsletter_subscribe,
    newsletter_token_read,
    notification_settings_update,
)
from .mail import (
    email_owe,
    email_preference_set,
    emails_due,
    emails_retry,
    emails_send,
    mailbox_clear,
    unsubscribe_apply,
    unsubscribe_read,
    unsubscribe_url,
)
from .maintenance import posts_rerender
from .moderation import (
    REVIEW_ACTIONS,
    moderation_log,
    post_flag,
    review_edit,
    review_resolve,
    spammer_delete,
    spammer_restore,
    user_restriction_lift,
    user_silence,
    user_suspend,
)
from .notifications import (
    like_notify,
    moderator_message_send,
    notification_open,
    notifications_mark_all_read,
    notifications_mark_read_in_topic,
    notify,
    notify_many,
    post_notify,
    post_notify_queue,
    post_notify_watchers,
)
from .pages import site_page_save, terms_publish
from .privacy import account_delete, personal_data_export
from .reading import bookmark_remove, bookmark_set, notification_level_set, post_like, post_unlike
from .tokens import api_token_create, api_token_revoke, api_token_use
from .topic_moderation import (
    category_create,
    post_hide_history,
    topic_move,
    topic_set_archived,
    topic_set_closed,
    topic_set_pinned,
    topic_set_tags,
)
from .trust import trust_level_set, trust_level_update, trust_levels_update_all

__all__ = [
    "api_token_create", "api_token_revoke", "api_token_use",
    "REVIEW_ACTIONS", "account_delete", "moderation_log", "personal_data_export", "post_flag", "review_edit",
    "review_resolve", "site_page_save", "spammer_delete", "spammer_restore", "trust_level_set",
    "trust_level_update", "trust_levels_update_all", "user_restriction_lift", "user_silence", "user_suspend",
    "TokenError", "digest_period", "digest_prepare", "digest_subscription_for_account", "digests_due", "email_owe",
    "email_preference_set", "emails_due", "emails_retry", "emails_send", "like_notify", "mailbox_clear",
    "moderator_message_send",
    "newsletter_confirm", "newsletter_subscribe", "newsletter_token_read", "notification_open",
    "notification_settings_update", "notifications_mark_all_read", "notifications_mark_read_in_topic", "notify",
    "notify_many", "post_notify", "post_notify_queue", "post_notify_watchers", "unsubscribe_apply",
    "unsubscribe_read", "unsubscribe_url",
    "bookmark_remove", "bookmark_set", "category_create", "clean_tags", "notification_level_set", "post_create",
    "post_delete", "post_edit", "post_hide_history", "post_like", "post_restore", "post_unlike", "posts_rerender",
    "profile_update", "render_post_text", "screen_fields",
    "role_grant", "roles_sync", "terms_accept", "terms_publish", "topic_create", "topic_mark_read", "topic_move",
    "topic_set_archived", "topic_set_closed", "topic_set_pinned", "topic_set_tags", "user_set_self_service_roles",
    "user_signup_complete", "welcome_email_queue", "welcome_email_send",
]
