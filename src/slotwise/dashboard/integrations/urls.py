"""The dashboard's integrations: team, API keys, calendars, webhooks and payments."""

from django.urls import path

from slotwise.dashboard.integrations import hooks, keys, money, team

urlpatterns = [
    path("team", team.team, name="team"),
    path("team/invite", team.invite, name="team-invite"),
    path(
        "team/invitations/<int:invitation_id>/revoke",
        team.revoke_invitation,
        name="team-revoke",
    ),
    path("team/members/<int:member_id>/role", team.change_role, name="team-role"),
    path("team/members/<int:member_id>/remove", team.remove_member, name="team-remove"),
    path("api-keys", keys.api_keys, name="api-keys"),
    path("api-keys/<int:key_id>/revoke", keys.revoke, name="api-key-revoke"),
    path("webhooks", hooks.webhooks, name="webhooks"),
    path("webhooks/<int:webhook_id>", hooks.webhook, name="webhook"),
    path("webhooks/<int:webhook_id>/rotate", hooks.rotate, name="webhook-rotate"),
    path("webhooks/<int:webhook_id>/delete", hooks.delete, name="webhook-delete"),
    path("payments", money.payments, name="payments"),
]
