from django.contrib import admin

from alerts.models import AlertMatch, AlertRun, AlertSettings, SavedSearch


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("user", "query", "category", "frequency", "index_key", "created_at")
    list_select_related = ("user", "category")
    search_fields = ("user__email", "query")
    raw_id_fields = ("user",)
    readonly_fields = ("terms", "index_key")


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "profile_skills", "profile_frequency")
    raw_id_fields = ("user",)


@admin.register(AlertMatch)
class AlertMatchAdmin(admin.ModelAdmin):
    list_display = ("project", "user", "email", "created_at", "digested_at")
    raw_id_fields = ("user", "project")


@admin.register(AlertRun)
class AlertRunAdmin(admin.ModelAdmin):
    list_display = ("project", "candidates", "matched", "finished_at")
    raw_id_fields = ("project",)
