from accounts.tests.factories import UserFactory
from invitations.services import invitation_send
from projects.tests.factories import make_project


def make_invitation(*, project=None, freelancer=None, note="Your portfolio has two shops like this one."):
    """An invitation sent through the service: to a new freelancer, on a new open project, unless given."""
    project = project or make_project()
    return invitation_send(project=project, freelancer=freelancer or UserFactory(), by=project.owner, note=note)
