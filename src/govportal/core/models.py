from django.db import models


class JobMark(models.Model):
    """When a background job last did its work, for jobs that run on change."""

    name = models.CharField(max_length=100, primary_key=True)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at.isoformat()}"
