import hashlib
import os
import time

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.views.decorators.csrf import csrf_exempt

from notes.models import Note


def index(request):
    return JsonResponse({
        "script_prefix": get_script_prefix(),
        "path": request.path,
        "path_info": request.path_info,
        "absolute": request.build_absolute_uri(),
        "reverse_upload": reverse("upload"),
        "reverse_cafe": reverse("cafe"),
        "reverse_admin": reverse("admin:index"),
        "reverse_note_add": reverse("admin:notes_note_add"),
        "static": static("admin/css/base.css"),
        "notes": list(Note.objects.order_by("id").values_list("title", flat=True)),
    })


@csrf_exempt
def upload(request):
    files = []
    for field, f in request.FILES.items():
        h = hashlib.sha256()
        for chunk in f.chunks():
            h.update(chunk)
        spooled = isinstance(f, TemporaryUploadedFile)
        files.append({
            "field": field,
            "name": f.name,
            "size": f.size,
            "sha256": h.hexdigest(),
            "class": type(f).__name__,
            "spooled_to_disk": spooled,
            "temp_dir": os.path.dirname(f.temporary_file_path()) if spooled else None,
        })
    return JsonResponse({
        "files": files,
        "fields": {k: request.POST.getlist(k) for k in request.POST},
        "max_memory_size": settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        "temp_dir_setting": str(settings.FILE_UPLOAD_TEMP_DIR),
    })


def download(request):
    path = os.path.join(settings.DATA_DIR, "blob.bin")
    return FileResponse(open(path, "rb"), as_attachment=True, filename="blob.bin")


def stream(request):
    token = request.GET.get("token", "")
    release = os.path.join(request.META["STATE_DIR"], "release-" + token) if token else None
    n = int(request.GET.get("n", "5"))

    def generate():
        yield "first (prefix=%s)\n" % get_script_prefix()
        if release:
            deadline = time.monotonic() + 10
            while not os.path.exists(release) and time.monotonic() < deadline:
                time.sleep(0.02)
            yield "released=%s\n" % os.path.exists(release)
        for i in range(n):
            yield "chunk %d %s\n" % (i, "y" * 1000)
        yield "done\n"

    return StreamingHttpResponse(generate(), content_type="text/plain")


def cafe(request):
    return JsonResponse({"view": "café", "path": request.path,
                         "reverse": reverse("cafe")})


def go(request):
    return redirect("cafe")
