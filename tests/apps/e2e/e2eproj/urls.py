from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("download/", views.download, name="download"),
    path("stream/", views.stream, name="stream"),
    path("café/", views.cafe, name="cafe"),
    path("go/", views.go, name="go"),
    path("admin/", admin.site.urls),
]
