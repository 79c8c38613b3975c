"""What each person does with what they read: likes, bookmarks, read state, notification levels."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from .content import Category, Post, Topic


class PostLike(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="post_like_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="post_like_user")]

    def __str__(self):
        return f"{self.user} likes {self.post}"


class Bookmark(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="bookmark_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="bookmark_user")]

    def __str__(self):
        return f"{self.user} bookmarked {self.post}"


class TopicRead(models.Model):
    """How far a person has read a topic; unread counts are the topic's last post number minus this."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_reads")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="reads")
    last_read_number = models.PositiveIntegerField(default=0)
    first_read_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="topic_read_once")]

    def __str__(self):
        return f"{self.user} read {self.topic} to #{self.last_read_number}"


class NotificationLevel(models.IntegerChoices):
    MUTED = 0, _("Muted: never notified, hidden from your lists")
    NORMAL = 1, _("Normal: notified when mentioned or replied to")
    TRACKING = 2, _("Tracking: unread counts shown")
    WATCHING = 3, _("Watching: notified of every new post")


class _NotificationSetting(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(choices=NotificationLevel.choices, default=NotificationLevel.NORMAL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class TopicNotificationSetting(_NotificationSetting):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="notification_settings")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="topic_notification_once")]

    def __str__(self):
        return f"{self.user}: {self.topic} = {self.level}"


class CategoryNotificationSetting(_NotificationSetting):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="notification_settings")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="category_notification_once")]

    def __str__(self):
        return f"{self.user}: {self.category} = {self.level}"


class TagNotificationSetting(_NotificationSetting):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="tag_notification_once")]

    def __str__(self):
        return f"{self.user}: {self.tag} = {self.level}"
