from django.urls import path

from govportal.cameras import views

app_name = "cameras"
urlpatterns = [
    path("report/<int:camera_id>/", views.report_camera, name="report"),
]
