"""What licensing enforces on published files (see anonymization/hooks.py): the files of data or
of a result held for its license are for who may read held content."""
from . import selectors


def published_withheld(*, user, upload) -> bool:
    if upload.post_id is None:
        return selectors.dataset_held_for(user=user, topic_id=upload.topic_id)
    withheld = selectors.withheld_result_posts(user=user)
    return withheld is not None and withheld.filter(post_id=upload.post_id).exists()
