"""Roles, and every rule about who may see or do what in the forum.

Roles are Django groups holding the capability permissions declared on
forum.User. This package is the one place that says which role holds which
capability; views, templates and services ask the functions here.

One module per subject, re-exported here (import from `forum.permissions`):

- `roles`: the roles, their capabilities, two-factor duty, moderators global and per category;
- `visibility`: the `*_visible_to` filters for categories, topics and posts, readable post texts;
- `content`: replying, editing, deleting, liking, flagging, quoting, pinning, moving, posting;
- `moderation`: the review queue, restrictions, the moderation log, site pages;
- `tokens`: API tokens.
"""
from .content import (
    can_delete_post,
    can_edit_post,
    can_flag_post,
    can_like_post,
    can_pin_globally,
    can_post_in_category,
    can_quote_post,
    can_release_topic,
    can_reply,
    can_restore_post,
    can_retreat_topic,
    can_see_deleted_content,
    check_can_delete_post,
    check_can_edit_post,
    check_can_flag_post,
    check_can_like_post,
    check_can_move_topic,
    check_can_pin_globally,
    check_can_post_in_category,
    check_can_reply,
    check_can_restore_post,
    check_not_silenced,
)
from .moderation import (
    can_edit_site_pages,
    can_read_moderation_log,
    can_restrict_user,
    can_review_item,
    can_triage_personal_data,
    can_use_review_queue,
    check_can_edit_site_pages,
    check_can_read_moderation_log,
    check_can_restrict_user,
    check_can_review_item,
    check_can_use_review_queue,
    restrictable_user_ids,
    review_items_visible_to,
)
from .roles import (
    MFA_REQUIRED_PERMISSIONS,
    ROLE_GROUP_NAMES,
    ROLE_PERMISSIONS,
    SELF_SERVICE_ROLES,
    Role,
    can_approve_own_personal_data,
    can_edit_profile,
    can_moderate,
    can_moderate_category,
    can_moderate_topic,
    can_send_moderator_message,
    check_can_edit_profile,
    check_can_grant_roles,
    check_can_moderate_topic,
    check_can_send_moderator_message,
    is_new_member,
    moderated_category_ids,
    requires_mfa,
    role_holders_q,
    triagers_q,
    user_roles,
)
from .tokens import (
    can_create_api_token,
    can_use_api_token,
    check_can_create_api_token,
    check_token_allows,
)
from .visibility import (
    can_read_post_text,
    categories_visible_to,
    own_topics_beyond_audience,
    post_texts_readable_by,
    posts_visible_to,
    topic_readers_among,
    topics_visible_to,
    topics_visible_to_audience,
)

__all__ = [
    "can_approve_own_personal_data", "can_create_api_token", "can_delete_post", "can_edit_post", "can_edit_profile",
    "can_edit_site_pages",
    "can_flag_post", "can_like_post", "can_moderate", "can_moderate_category", "can_moderate_topic",
    "can_pin_globally", "can_post_in_category", "can_quote_post", "can_read_moderation_log", "can_read_post_text",
    "can_release_topic", "can_reply", "can_restore_post", "can_restrict_user", "can_retreat_topic",
    "can_review_item", "can_see_deleted_content", "can_send_moderator_message", "can_triage_personal_data",
    "can_use_api_token", "can_use_review_queue", "categories_visible_to", "check_can_create_api_token",
    "check_can_delete_post", "check_can_edit_post", "check_can_edit_profile", "check_can_edit_site_pages",
    "check_can_flag_post", "check_can_grant_roles", "check_can_like_post", "check_can_moderate_topic",
    "check_can_move_topic", "check_can_pin_globally", "check_can_post_in_category", "check_can_read_moderation_log",
    "check_can_reply", "check_can_restore_post", "check_can_restrict_user", "check_can_review_item",
    "check_can_send_moderator_message", "check_can_use_review_queue", "check_not_silenced", "check_token_allows",
    "is_new_member", "MFA_REQUIRED_PERMISSIONS", "moderated_category_ids", "post_texts_readable_by",
    "posts_visible_to", "requires_mfa", "restrictable_user_ids", "review_items_visible_to", "Role",
    "role_holders_q", "ROLE_GROUP_NAMES", "ROLE_PERMISSIONS", "SELF_SERVICE_ROLES", "topic_readers_among",
    "topics_visible_to", "triagers_q", "user_roles", "own_topics_beyond_audience", "topics_visible_to_audience",
]
