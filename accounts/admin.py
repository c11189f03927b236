from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import AdminUserChangeForm, AdminUserCreationForm
from accounts.models import Profile, User
from accounts.services import profile_ensure, profile_refresh_search


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["display_name", "avatar", "bio"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    inlines = [ProfileInline]
    list_display = ["email", "username", "is_staff", "is_active", "date_joined", "last_login"]
    search_fields = ["email", "username", "profile__display_name"]
    ordering = ["-date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "username", "password", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "username", "password1", "password2"]})]

    def get_inlines(self, request, obj):
        # The profile is made with the user; it is edited once it exists.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        profile_ensure(user=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        profile_refresh_search(user=form.instance)  # the inline may have changed the name or bio the directory finds
