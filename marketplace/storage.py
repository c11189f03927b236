from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateFileSystemStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, which no URL serves: views hand them out after a permission check.

    Like FileSystemStorage with MEDIA_ROOT, it follows the setting when it changes (tests use a temporary one).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("base_url", "/private-not-served/")
        super().__init__(**kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


def private_storage():
    """For FileField(storage=...): the 'private' storage of settings.STORAGES."""
    from django.core.files.storage import storages

    return storages["private"]
