from django.contrib import admin

from invitations.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("project", "freelancer", "invited_by", "status", "created_at", "answered_at")
    list_filter = ("status",)
    search_fields = ("project__title", "freelancer__username", "invited_by__username")
    raw_id_fields = ("project", "freelancer", "invited_by")
    readonly_fields = ("created_at", "answered_at")

    def has_add_permission(self, request):  # invitations are sent by employers, through invitations.services
        return False
