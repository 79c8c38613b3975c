"""The site's URLs plus tiny views that show what the anonymous page cache does."""
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.vary import vary_on_headers

from config.urls import urlpatterns as site_urlpatterns
from forum import views as forum_views
from forum.models import Category
from forum.pagecache import cache_anonymous_page, invalidate

calls = {"count": 0}


def _counted(request, body=""):
    calls["count"] += 1
    user = "signed-in" if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"call {calls['count']} {user} {body}")


@cache_anonymous_page
def counter(request):
    return _counted(request)


def not_opted_in(request):
    return _counted(request)


@cache_anonymous_page
def sets_cookie(request):
    response = _counted(request)
    response.set_cookie("seen", "1")
    return response


@cache_anonymous_page
def uses_csrf_token(request):
    return _counted(request, get_token(request))


@csrf_exempt
@cache_anonymous_page
def accepts_post(request):
    return _counted(request, request.method)


@cache_anonymous_page
def not_found(request):
    response = _counted(request)
    response.status_code = 404
    return response


@cache_anonymous_page
@never_cache
def private(request):
    return _counted(request)


@cache_anonymous_page
@vary_on_headers("User-Agent")
def varies_on_user_agent(request):
    return _counted(request)


@cache_anonymous_page
def streams(request):
    calls["count"] += 1
    return StreamingHttpResponse(iter(["streamed"]))


@cache_anonymous_page
def category_names(request):
    calls["count"] += 1
    return HttpResponse(", ".join(Category.objects.order_by("pk").values_list("name", flat=True)))


@cache_anonymous_page
def written_during_render(request):
    """A write from another request lands while this page renders."""
    response = _counted(request)
    invalidate()
    return response


urlpatterns = [
    path("pagecache/counter/", counter),
    path("pagecache/not-opted-in/", not_opted_in),
    path("pagecache/sets-cookie/", sets_cookie),
    path("pagecache/csrf/", uses_csrf_token),
    path("pagecache/post/", accepts_post),
    path("pagecache/not-found/", not_found),
    path("pagecache/private/", private),
    path("pagecache/varies/", varies_on_user_agent),
    path("pagecache/streams/", streams),
    path("pagecache/categories/", category_names),
    path("pagecache/written-during-render/", written_during_render),
    path("pagecache/home/", cache_anonymous_page(forum_views.home)),
    *site_urlpatterns,
]
