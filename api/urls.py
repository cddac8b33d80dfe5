from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views

app_name = "api"

# Swagger UI, from the sidecar package's files under our own static URL, its start-up script
# served by the view itself (no inline script). Its stylesheet draws icons as data: images, which
# this page alone may load.
docs = csp_update({"img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/docs.html", title="Read API docs"
    )
)

urlpatterns = [
    path("people/", views.PersonList.as_view(), name="people"),
    path("people/<int:person_id>/", views.PersonDetail.as_view(), name="person"),
    path("people/<int:person_id>/events/", views.PersonEventList.as_view(), name="person-events"),
    path("events/", views.EventList.as_view(), name="events"),
    path("groups/", views.GroupList.as_view(), name="groups"),
    path("groups/<int:group_id>/", views.GroupDetail.as_view(), name="group"),
    path("segments/", views.SegmentList.as_view(), name="segments"),
    path("segments/<int:segment_id>/", views.SegmentDetail.as_view(), name="segment"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs, name="docs"),
]
