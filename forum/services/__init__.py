"""Every write in the forum, one module per subject, re-exported here."""
from .accounts import (
    profile_update,
    role_grant,
    roles_sync,
    terms_accept,
    terms_publish,
    user_set_self_service_roles,
    user_signup_complete,
    welcome_email_queue,
    welcome_email_send,
)
from .content import (
    category_create,
    clean_tags,
    post_create,
    post_delete,
    post_edit,
    post_hide_history,
    post_restore,
    posts_rerender,
    render_post_text,
    topic_create,
    topic_mark_read,
    topic_move,
    topic_set_archived,
    topic_set_closed,
    topic_set_pinned,
    topic_set_tags,
)
from .reading import bookmark_remove, bookmark_set, notification_level_set, post_like, post_unlike

__all__ = [
    "bookmark_remove", "bookmark_set", "category_create", "clean_tags", "notification_level_set", "post_create",
    "post_delete", "post_edit", "post_hide_history", "post_like", "post_restore", "post_unlike", "posts_rerender",
    "profile_update", "render_post_text",
    "role_grant", "roles_sync", "terms_accept", "terms_publish", "topic_create", "topic_mark_read", "topic_move",
    "topic_set_archived", "topic_set_closed", "topic_set_pinned", "topic_set_tags", "user_set_self_service_roles",
    "user_signup_complete", "welcome_email_queue", "welcome_email_send",
]
