"""The domain errors every app raises from its services; views turn them into a message or a 4xx page."""


class DomainError(Exception):
    """A business rule refused the action. `message` is shown to the user (translatable)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    """This user may not do this (views answer 403)."""


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action."""


class StorageUnavailable(DomainError):
    """The file store (the disk, or object storage) did not take the file; nothing was saved."""
