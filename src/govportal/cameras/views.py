"""The office pages that visitors reach from the static camera pages."""

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from govportal.api import ratelimit
from govportal.cameras.reports import MAX_DESCRIPTION, file_report
from govportal.cameras.tasks import monitored_cameras

# Reports one client address may send per minute; more get 429.
REPORTS_PER_MINUTE = 5


class ReportForm(forms.Form):
    description = forms.CharField(
        label=_("您看到的問題（選填）"),
        help_text=_("例如：畫面全黑、畫面停住不動、顯示錯誤訊息。請勿填寫個人資料。"),
        required=False,
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_DESCRIPTION}),
    )


@require_http_methods(["GET", "POST"])
def report_camera(request: HttpRequest, camera_id: int) -> HttpResponse:
    camera = get_object_or_404(
        # The published cameras are the ones the site shows or names.
        monitored_cameras().select_related("agency", "published_revision"),
        pk=camera_id,
    )
    snapshot = camera.public_snapshot() or {}
    context = {
        "camera": camera,
        "camera_name": snapshot.get("name") or camera.source_id,
        "camera_url": f"{settings.SITE_BASE_URL}/cameras/{camera.pk}/",
        "site_url": settings.SITE_BASE_URL,
    }
    if request.method == "GET":
        if request.GET.get("sent") == "1":
            return render(request, "cameras/report_received.html", context)
        return render(request, "cameras/report.html", {**context, "form": ReportForm()})
    address = request.META.get("REMOTE_ADDR", "")
    if ratelimit.count("camera-report", address) > REPORTS_PER_MINUTE:
        response = render(
            request, "cameras/report.html", {**context, "too_many": True}, status=429
        )
        response["Retry-After"] = str(ratelimit.seconds_to_next_window())
        return response
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "cameras/report.html", {**context, "form": form}, status=400
        )
    file_report(camera, form.cleaned_data["description"])
    # Redirect after the post, so reloading the page sends nothing again.
    return redirect(f"{request.path}?sent=1")
