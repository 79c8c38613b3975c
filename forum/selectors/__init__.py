"""Every read a forum page needs, with joins and counts done in the query; re-exported here."""
from .counts import audience, counted, readers
from .lists import tag_find, tag_get, topic_list_page
from .moderation import (
    moderation_log_list,
    moderation_person_get,
    personal_data_review_count,
    review_item_decided_or_pending_get,
    review_item_get,
    review_item_list,
    review_queue_size,
    site_page_get,
    terms_version_get,
    terms_version_list,
)
from .notifications import (
    describe_notifications,
    notification_list,
    notification_settings_for,
    unread_notification_count,
    unread_notification_summary,
)
from .people import (
    TERMS_CACHE_KEY,
    api_token_list,
    people_list,
    profile_activity,
    profile_get,
    profile_like_list,
    profile_page,
    profile_reply_list,
    profile_topic_list,
    terms_accepted,
    terms_current,
)
from .topic_pages import topic_for_page, topic_page
from .topics import (
    LIST_ORDERS,
    POSTS_PER_PAGE,
    TOP_PERIODS,
    bookmark_list,
    category_choices,
    category_get,
    category_list,
    mark_post_texts,
    notification_level_effective,
    notification_levels_for,
    person_fields_unshown,
    post_get,
    post_get_by_number,
    post_page_number,
    post_revision_list,
    subcategory_list,
    tag_list,
    topic_get,
    topic_list,
    topic_post_list,
    topic_read_number,
    topic_watcher_ids,
)

__all__ = [
    "audience", "counted", "readers", "topic_list_page", "topic_for_page", "person_fields_unshown",
    "moderation_log_list", "moderation_person_get", "review_item_decided_or_pending_get", "review_item_get",
    "personal_data_review_count", "review_item_list", "review_queue_size",
    "site_page_get", "terms_version_get", "terms_version_list",
    "describe_notifications", "notification_list", "notification_settings_for", "unread_notification_count",
    "unread_notification_summary",
    "LIST_ORDERS", "POSTS_PER_PAGE", "TERMS_CACHE_KEY", "TOP_PERIODS", "bookmark_list", "category_choices",
    "category_get", "category_list", "notification_level_effective", "notification_levels_for", "post_get",
    "post_get_by_number", "post_page_number", "post_revision_list", "profile_activity", "profile_get",
    "profile_like_list", "profile_page", "profile_reply_list", "profile_topic_list", "subcategory_list", "tag_find",
    "tag_get",
    "terms_accepted", "terms_current", "topic_get", "topic_list", "topic_page", "topic_read_number",
    "topic_watcher_ids", "api_token_list", "people_list", "mark_post_texts", "tag_list", "topic_post_list",
]
