from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"

    def ready(self) -> None:
        # Deleting a person (people/deletion.py) deletes their events by cascade; the activity
        # rollups counting those events must shrink with them, in the same transaction.
        from feed.rollups import rollups_forget_identities
        from people.signals import person_erasing

        person_erasing.connect(rollups_forget_identities, dispatch_uid="feed.rollups_forget")
