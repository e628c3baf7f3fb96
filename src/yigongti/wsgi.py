import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
os.environ.setdefault("YIGONGTI_PROCESS", "web")  # web requests get a statement timeout (settings)
application = get_wsgi_application()
