"""(placeholder of the skeleton: its owner replaces this module)"""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request):
    return HttpResponse("")


urlpatterns = [path("", _placeholder, name="centers")]
