"""The dashboard's URLs, under ``/dashboard/``: its sections each add their own."""

from django.urls import path

from slotwise.dashboard import views
from slotwise.dashboard.board.urls import urlpatterns as board
from slotwise.dashboard.editors.urls import urlpatterns as editors
from slotwise.dashboard.insights.urls import urlpatterns as insights
from slotwise.dashboard.integrations.urls import urlpatterns as integrations

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("choose", views.choose, name="choose"),
    *board,
    *editors,
    *insights,
    *integrations,
]
