import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewsdash.settings")
application = get_wsgi_application()
# Django and plotly leave ~170,000 long-lived objects; moving them out of the
# collector's view keeps full collections (about 80 ms each) out of request latency.
gc.freeze()
