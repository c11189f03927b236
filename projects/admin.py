from django.contrib import admin

from projects.models import Category, Project, ProjectAttachment, Skill


class SkillInline(admin.TabularInline):
    model = Skill
    fields = ["slug", "name_en", "name_fa"]
    extra = 1


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_fa", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name_en", "name_fa", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [SkillInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "position":
            # The list's position boxes carry no <label> of their own (Django's list_editable): name each one for
            # a screen reader.
            field.widget.attrs["aria-label"] = db_field.verbose_name
        return field


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_fa", "slug", "category"]
    list_filter = ["category"]
    search_fields = ["name_en", "name_fa", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    list_select_related = ["category"]


class AttachmentInline(admin.TabularInline):
    model = ProjectAttachment
    fields = ["name", "size", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Staff read projects here; what employers write is changed by employers, through the site."""

    list_display = ["title", "owner", "status", "kind", "currency", "budget_max", "proposal_count", "published_at"]
    list_filter = ["status", "kind", "category"]
    search_fields = ["title", "owner__email", "owner__username"]
    list_select_related = ["owner", "category"]
    readonly_fields = [
        "owner", "title", "description", "category", "skills", "currency", "budget_min", "budget_max",
        "deadline", "duration_days", "kind", "status", "proposal_count", "created_at", "updated_at", "published_at",
    ]  # fmt: skip
    inlines = [AttachmentInline]

    def has_add_permission(self, request):
        return False
