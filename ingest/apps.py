from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IngestConfig(AppConfig):
    name = "ingest"

    def ready(self) -> None:
        from accounts.models import Source
        from ingest.authentication import token_cache_clear
        from ingest.erasure import dead_letters_forget
        from people.signals import person_ids_erasing

        # A revoked or rotated token stops working at once in this process (see the cache).
        post_save.connect(token_cache_clear, sender=Source, dispatch_uid="ingest-token-cache")
        post_delete.connect(token_cache_clear, sender=Source, dispatch_uid="ingest-token-cache-d")
        # Forgetting a person (people/deletion.py) deletes the dead letters holding their ids too.
        person_ids_erasing.connect(dead_letters_forget, dispatch_uid="ingest.dead_letters_forget")
