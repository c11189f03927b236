from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def project_list(request):
    """Active projects. Browsing and search arrive with the projects issue; until then, the empty state."""
    return render(request, "projects/project_list.html")


@login_required
def project_create(request):
    return render(request, "projects/project_create.html")


@login_required
def my_activities(request):
    tab = request.GET.get("tab")
    return render(
        request, "projects/my_activities.html", {"tab": tab if tab in ("employer", "freelancer") else "employer"}
    )
